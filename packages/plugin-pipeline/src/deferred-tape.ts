// A forward now, its backward later. tfjs only offers gradients whose forward and backward run in one
// synchronous call (tf.grads, tf.variableGrads), but a pipeline stage must run the forward of
// micro-batch m, hand its output on, run other micro-batches, and only then get m's output gradient.
// Recomputing the forward at backward time (GPipe's rematerialisation) would cost a third more work.
// So we record the forward's tape the way engine.gradients does (startTape / endTape: the kernels'
// saved tensors are kept, every other intermediate is freed) and run reverse-mode accumulation over
// that tape later. This reads tfjs-core engine internals (verified on 4.22; checked at start-up), and
// needs the gradients registered (tfjs-layers, which every stage loads, registers them).
import * as tf from '@tensorflow/tfjs-core';
import type { WeightGradientDeferral } from './weight-gradient-deferral.js';

export interface TapeNode {
  readonly kernelName: string;
  readonly inputs: Record<string, tf.Tensor>;
  readonly outputs: tf.Tensor[];
  readonly saved?: tf.Tensor[];
  readonly gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  /** The kernel's attributes, which tfjs keeps only inside `gradient`: recordForward adds them. */
  attrs?: Record<string, unknown>;
}

type AddTapeNode = (kernelName: string, inputs: unknown, outputs: unknown, gradient: unknown, saved: unknown, attrs: Record<string, unknown>) => void;

interface EngineInternals {
  startTape(): void;
  endTape(): void;
  addTapeNode: AddTapeNode;
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
}

function engineInternals(): EngineInternals {
  const engine = tf.engine() as unknown as Partial<EngineInternals>;
  if (typeof engine.startTape !== 'function' || typeof engine.endTape !== 'function' || typeof engine.addTapeNode !== 'function' || typeof engine.state?.gradientDepth !== 'number') {
    throw new Error('plugin-pipeline: this tfjs-core has no engine tape (startTape/endTape); the pipeline needs tfjs-core 4');
  }
  return engine as EngineInternals;
}

/** Throws now, with a clear message, when this tfjs cannot record a forward for later. */
export function checkDeferredTapeSupport(): void {
  engineInternals();
}

/** A forward whose backward has not run yet. Holds the kernels' saved tensors until then. */
export interface RecordedForward {
  readonly output: tf.Tensor;
  readonly outputId: number;
  readonly tape: readonly TapeNode[];
}

/** Runs `forward` while recording its tape; only the output and the saved tensors stay alive. */
export function recordForward(forward: () => tf.Tensor): RecordedForward {
  const engine = engineInternals();
  if (engine.state.gradientDepth !== 0) throw new Error('plugin-pipeline: recordForward cannot run inside another gradient computation');
  engine.startTape();
  const addTapeNode = engine.addTapeNode;
  engine.addTapeNode = function (this: EngineInternals, ...args: Parameters<AddTapeNode>): void {
    addTapeNode.apply(this, args);
    const node = this.state.activeTape?.at(-1);
    if (node) node.attrs = args[5];
  };
  let output: tf.Tensor;
  try {
    output = tf.tidy(forward);
  } catch (error) {
    endRecording(engine, addTapeNode);
    releaseTape(takeTape(engine));
    throw error;
  }
  endRecording(engine, addTapeNode);
  return { output, outputId: output.id, tape: takeTape(engine) };
}

function endRecording(engine: EngineInternals, addTapeNode: AddTapeNode): void {
  engine.addTapeNode = addTapeNode;
  engine.endTape();
}

function takeTape(engine: EngineInternals): TapeNode[] {
  const tape = engine.state.activeTape ?? [];
  engine.state.activeTape = null;
  return tape;
}

function releaseTape(tape: readonly TapeNode[]): void {
  for (const node of tape) for (const tensor of node.saved ?? []) tensor.dispose();
}

/** Frees what a recorded forward kept, without running its backward (a failed step). */
export function discardForward(recorded: RecordedForward): void {
  releaseTape(recorded.tape);
}

/**
 * The backward of a recorded forward: gradients of sum(output · outputGradient) with respect to
 * each of `sources` (variables or the forward's input, by tensor id; they may be disposed by now).
 * null where a source does not reach the output. Frees the tape's saved tensors. Weight gradients
 * that `deferral` accepts are handed to it instead (and are null here unless reached otherwise).
 */
export function backwardOfRecorded(
  recorded: RecordedForward,
  sources: readonly { readonly id: number }[],
  outputGradient: tf.Tensor,
  deferral?: WeightGradientDeferral,
): Array<tf.Tensor | null> {
  try {
    return tf.tidy(() => {
      const { reachedFromSources, leadingToOutput, nodes } = nodesBetween(recorded, sources);
      const gradients = new Map<number, tf.Tensor>([[recorded.outputId, outputGradient]]);
      for (let index = nodes.length - 1; index >= 0; index--) {
        const node = nodes[index]!;
        const outputGradients = node.outputs.map((output) => gradients.get(output.id) ?? null);
        if (outputGradients.every((gradient) => gradient === null)) continue;
        if (!node.gradient) throw new Error('plugin-pipeline: a kernel on the trained path has no gradient');
        const inputGradients = node.gradient(outputGradients);
        for (const [name, input] of Object.entries(node.inputs)) {
          if (!reachedFromSources.has(input.id) || !leadingToOutput.has(input.id)) continue;
          if (deferral?.accepts(node, name)) {
            deferral.defer(node, outputGradients[0]!);
            continue;
          }
          const gradientOf = inputGradients[name];
          if (!gradientOf) throw new Error(`plugin-pipeline: the gradient of a kernel gives nothing for its input '${name}'`);
          const gradient = gradientOf();
          const sum = gradients.get(input.id);
          gradients.set(input.id, sum ? tf.add(sum, gradient) : gradient);
        }
      }
      return sources.map((source) => gradients.get(source.id) ?? null) as tf.Tensor[];
    }) as Array<tf.Tensor | null>;
  } finally {
    releaseTape(recorded.tape);
  }
}

/** The taped kernels on a path from a source to the output, in forward order. */
function nodesBetween(recorded: RecordedForward, sources: readonly { readonly id: number }[]) {
  const reachedFromSources = new Set(sources.map((source) => source.id));
  const forward = recorded.tape.filter((node) => {
    if (!Object.values(node.inputs).some((input) => reachedFromSources.has(input.id))) return false;
    for (const output of node.outputs) reachedFromSources.add(output.id);
    return true;
  });
  const leadingToOutput = new Set([recorded.outputId]);
  const nodes: TapeNode[] = [];
  for (let index = forward.length - 1; index >= 0; index--) {
    const node = forward[index]!;
    if (!node.outputs.some((output) => leadingToOutput.has(output.id))) continue;
    for (const input of Object.values(node.inputs)) leadingToOutput.add(input.id);
    nodes.unshift(node);
  }
  return { reachedFromSources, leadingToOutput, nodes };
}
