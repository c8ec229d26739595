import * as tf from '@tensorflow/tfjs-core';
import type { GradientMap } from './step-context.js';

type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];

type OptimizerClass = {
  new (...args: never[]): tf.Optimizer;
  fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tf.Optimizer;
};

/**
 * Optimizer state kept per variable. tfjs optimizers key their slots by position in the list given to
 * `applyGradients` (tfjs#4290), so updating a different subset on different steps would mix slots
 * between variables. One clone of the template optimizer per variable makes every variable's slots
 * (and Adam's bias-correction powers) its own: a variable skipped this step keeps weights and slots
 * bit-identical, and resumes exactly where it stopped.
 *
 * Per-variable clones cost a few scalar ops per variable and step, so while every step updates the same
 * set of variables one shared clone serves them all (the same arithmetic). The first step that updates
 * a different set splits its state into per-variable clones, exactly (getWeights → setWeights).
 */
export class VariableOptimizers {
  private readonly byVariable = new Map<string, tf.Optimizer>();
  private learningRate: number;
  private shared: tf.Optimizer | null = null;
  /** Variables the shared optimizer updates, in its slot order; null once split (or before step 1). */
  private sharedNames: string[] | null = null;
  private split = false;

  constructor(private readonly template: tf.Optimizer) {
    this.learningRate = readLearningRate(template);
  }

  get currentLearningRate(): number {
    return this.learningRate;
  }

  /** True while one optimizer serves all variables (no step has updated a different set yet). */
  get isShared(): boolean {
    return !this.split;
  }

  /** Applies each gradient with its own variable's optimizer state. */
  async apply(gradients: GradientMap): Promise<void> {
    const names = Object.keys(gradients);
    if (names.length === 0) return;
    if (!this.split) {
      this.sharedNames ??= names;
      if (sameMembers(names, this.sharedNames)) {
        this.shared ??= this.newOptimizer();
        // Always the same order: the shared optimizer's slots are keyed by position.
        this.shared.applyGradients(Object.fromEntries(this.sharedNames.map((name) => [name, gradients[name]!])));
        return;
      }
      await this.splitShared();
    }
    for (const name of names) this.forVariable(name).applyGradients({ [name]: gradients[name]! });
  }

  /** Moves the shared optimizer's state into one clone per variable. */
  private async splitShared(): Promise<void> {
    this.split = true;
    const shared = this.shared;
    if (!shared) return;
    const [iterations, ...slots] = await shared.getWeights();
    for (const name of this.sharedNames ?? []) {
      await this.forVariable(name).setWeights([iterations!, ...slotsOf(slots, name)]);
    }
    shared.dispose();
    this.shared = null;
  }

  forVariable(name: string): tf.Optimizer {
    let optimizer = this.byVariable.get(name);
    if (!optimizer) {
      optimizer = this.newOptimizer();
      this.byVariable.set(name, optimizer);
    }
    return optimizer;
  }

  private newOptimizer(): tf.Optimizer {
    const optimizer = cloneOptimizer(this.template);
    setLearningRate(optimizer, this.learningRate);
    return optimizer;
  }

  /** Iterations and slot tensors of one variable's optimizer state (empty before its first update). */
  async slots(name: string): ReturnType<tf.Optimizer['getWeights']> {
    if (this.shared && this.sharedNames?.includes(name)) {
      const [iterations, ...slots] = await this.shared.getWeights();
      return [iterations!, ...slotsOf(slots, name)];
    }
    const optimizer = this.byVariable.get(name);
    return optimizer ? optimizer.getWeights() : [];
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
    setLearningRate(this.template, learningRate);
    for (const optimizer of this.byVariable.values()) setLearningRate(optimizer, learningRate);
    if (this.shared) setLearningRate(this.shared, learningRate);
  }

  dispose(): void {
    for (const optimizer of this.byVariable.values()) optimizer.dispose();
    this.byVariable.clear();
    this.shared?.dispose();
    this.shared = null;
  }
}

export function cloneOptimizer(optimizer: tf.Optimizer): tf.Optimizer {
  const cls = optimizer.constructor as unknown as OptimizerClass;
  return cls.fromConfig(cls, optimizer.getConfig());
}

function readLearningRate(optimizer: tf.Optimizer): number {
  const value = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof value !== 'number') {
    throw new Error(`trainhooks: cannot read the learning rate of ${optimizer.getClassName()}`);
  }
  return value;
}

function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  // SGD and Momentum cache -lr in a scalar; the others read the field on every update.
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(learningRate);
  else withSetter.learningRate = learningRate;
}

function sameMembers(names: readonly string[], expected: readonly string[]): boolean {
  if (names.length !== expected.length) return false;
  const set = new Set(expected);
  return names.every((name) => set.has(name));
}

/** A variable's slots in an optimizer's getWeights() list: tfjs names them `${variable}/${slot}`. */
function slotsOf(slots: readonly NamedTensor[], variableName: string): NamedTensor[] {
  return slots.filter((slot) => slot.name.slice(0, slot.name.lastIndexOf('/')) === variableName);
}
