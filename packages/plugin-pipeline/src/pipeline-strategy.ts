// The pipeline as a StepStrategy: the training thread plans the stages, sends each its units'
// current weights and its work, computes the loss of every micro-batch the last stage hands back (so
// the trainer's own loss and metrics apply, custom ones included), and collects the summed gradients.
// The trainer then fires the hooks and applies one update per batch, as without the pipeline: the
// stages return gradients and receive the weights that changed, and trainer.model stays the source of
// truth for evaluation, saving and the other plugins.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '@trainhooks/backend';
import { LocalStrategy, median, unitWeights, type ForwardBackwardResult, type StepContext, type StepModel, type StepRun, type StepStrategy, type Unit } from '@trainhooks/core-hooks/internal';
import type { PipelineOptions } from './options.js';
import { planStep, type PipelinePlan } from './plan.js';
import { microBatchOffsets, microBatchSizes, stageOperations } from './schedule.js';
import type { FromStage, SlotValue, StepDone, StepMessage, UnitProfile, VariableSlot } from './stage-protocol.js';
import { StageThreads } from './stage-threads.js';
import { buffersOf, fromTransfer, toTransfer } from './tensor-transfer.js';

export interface PipelineStrategyConfig {
  readonly options: PipelineOptions;
  /** model.toJSON(null, false): each stage rebuilds the architecture from it. */
  readonly topology: object;
  /** Asked when the stages start: the backend they run (the training thread's). */
  readonly backend: () => BackendChoice;
  /** Each new plan (first step, frozen prefix or forward start moved). */
  readonly onPlan: (plan: PipelinePlan, step: number) => void;
  readonly onStep: (timing: PipelineStepTiming) => void;
  /** The pipeline gave way to the local trainer (fallback 'auto'), once. */
  readonly onFallback: (fallback: PipelineFallback) => void;
}

/** Why a run left the pipeline for the local trainer, and what it measured. */
export interface PipelineFallback {
  readonly step: number;
  readonly plan: PipelinePlan;
  readonly reason: string;
  /** Median forward + backward ms per step, pipelined and local (null: decided from the plan alone). */
  readonly pipelinedMs: number | null;
  readonly localMs: number | null;
}

/** How one step went, as the stages measured it. */
export interface PipelineStepTiming {
  readonly step: number;
  readonly stages: number;
  readonly microBatches: number;
  readonly wallMs: number;
  /** Per stage: ms computing (forward, backward, moving tensors). */
  readonly busyMs: readonly number[];
  /** 1 − Σ busy / (stages × wall): the share of stage time spent waiting. */
  readonly bubbleFraction: number;
  /** Training-thread ms copying weights and the batch out to the stages, and gradients and statistics back in. */
  readonly copyMs: number;
  /** Per stage: dense weight-gradient products computed once per batch instead of per micro-batch. */
  readonly deferredProducts: readonly number[];
  readonly tensorsAlive: readonly number[];
}

interface Slot extends VariableSlot {
  readonly variable: tf.Variable;
}

/** Everything the training thread gathers from the stages during one step. */
interface StepGather {
  outputs: tf.Tensor[];
  losses: tf.Scalar[];
  metrics: tf.Scalar[][];
  frozenOutputs: tf.Tensor[];
  done: StepDone[];
  forwardReported: boolean;
}

const MESSAGE_PINGS = 7;
/** Starting the threads and profiling are not steps: they get at least this long, whatever stepTimeoutMs says. */
const MIN_SETUP_TIMEOUT_MS = 60_000;

export class PipelineStrategy implements StepStrategy {
  readonly name = 'pipeline';
  private threads: StageThreads | null = null;
  private units: readonly Unit[] = [];
  private slots: Slot[] = [];
  /** The same slots by slotKey, for the stages' answers. */
  private readonly slotByKey = new Map<string, Slot>();
  /** Bumped whenever a variable changes in the training thread; each stage remembers what it holds. */
  private readonly versions = new Map<tf.Variable, number>();
  private stageVersions: Array<Map<tf.Variable, number>> = [];
  private profile: UnitProfile | null = null;
  private profiledMicroBatch = 0;
  private messageLatencyMs = 0;
  private readonly plans = new Map<string, PipelinePlan>();
  private planKey = '';
  private exchangeStep = 0;
  private lastTiming: PipelineStepTiming | null = null;
  /** Once the pipeline gave way (fallback 'auto'), every step runs here. */
  private readonly local = new LocalStrategy();
  private fallback: PipelineFallback | null = null;
  /** The measured comparison: pipelined steps seen (the first is a warm-up), and the ms of each kind. */
  private pipelinedSeen = 0;
  private readonly checkMs = { pipelined: [] as number[], local: [] as number[] };
  private checked = false;

  constructor(private readonly config: PipelineStrategyConfig) {}

  async setup(model: StepModel): Promise<void> {
    this.units = model.units;
    this.slots = unitWeights(model.units);
    for (const slot of this.slots) this.slotByKey.set(slotKey(slot), slot);
    await this.startThreads();
  }

  /** The plan of the latest step (null before the first). */
  get plan(): PipelinePlan | null {
    return this.plans.get(this.planKey) ?? null;
  }

  get unitProfile(): UnitProfile | null {
    return this.profile;
  }

  /** Starting the threads and profiling: the step timeout, but never under MIN_SETUP_TIMEOUT_MS. */
  private get setupTimeoutMs(): number {
    return Math.max(this.config.options.stepTimeoutMs, MIN_SETUP_TIMEOUT_MS);
  }

  get lastStep(): PipelineStepTiming | null {
    return this.lastTiming;
  }

  /** Stage threads that are running (0 after dispose). */
  get runningThreads(): number {
    return this.threads?.running ?? 0;
  }

  weightsChanged(variables: readonly tf.Variable[]): void {
    for (const variable of variables) this.versions.set(variable, (this.versions.get(variable) ?? 0) + 1);
  }

  async dispose(): Promise<void> {
    await this.threads?.terminate();
  }

  private async startThreads(): Promise<void> {
    const { options, topology } = this.config;
    this.threads = await StageThreads.start({
      stages: options.stages,
      topology,
      unitCount: this.units.length,
      backend: this.config.backend(),
      threads: options.threadsPerStage,
      workerSetup: options.workerSetup,
      startTimeoutMs: this.setupTimeoutMs,
    });
    // Fresh workers hold no weights of ours.
    this.stageVersions = Array.from({ length: options.stages }, () => new Map());
  }

  /** Threads that are up: after a stage failed, the next step starts new ones. */
  private async liveThreads(): Promise<StageThreads> {
    if (!this.threads || this.threads.broken) {
      await this.threads?.terminate();
      this.threads = null;
      await this.startThreads();
    }
    return this.threads!;
  }

  async forwardBackward(context: StepContext, run: StepRun): Promise<ForwardBackwardResult> {
    if (this.fallback) return this.local.forwardBackward(context, run);
    const threads = await this.liveThreads();
    const sizes = microBatchSizes(context.batchSize, this.config.options.microBatches);
    if (context.forwardStart.unit === this.units.length) return this.lossOnly(context, run);
    const plan = await this.planFor(threads, context, sizes);
    const { fallback, minSpeedup } = this.config.options;
    if (fallback === 'never' || this.checked) return this.runStages(threads, plan, context, run, sizes);
    if (plan.predictedSpeedup < minSpeedup) {
      const reason =
        `the plan predicts ${plan.predictedSpeedup.toFixed(2)}× over one stage thread (bottleneck ${plan.bottleneckMs.toFixed(2)} ms, ` +
        `one thread ${plan.sequentialMs.toFixed(2)} ms per micro-batch) < minSpeedup ${minSpeedup}×`;
      await this.fallBack({ step: context.step, plan, reason, pipelinedMs: null, localMs: null });
      return this.local.forwardBackward(context, run);
    }
    return this.measuredStep(threads, plan, context, run, sizes);
  }

  /**
   * The first steps compare the two ways on this machine: one pipelined warm-up, `checkSteps` timed
   * pipelined steps, then `checkSteps` local ones (same work: forward and backward of the same batch
   * size); then the pipeline goes on only if it is at least `minSpeedup` faster.
   */
  private async measuredStep(threads: StageThreads, plan: PipelinePlan, context: StepContext, run: StepRun, sizes: number[]): Promise<ForwardBackwardResult> {
    const { checkSteps, minSpeedup } = this.config.options;
    const began = performance.now();
    if (this.pipelinedSeen <= checkSteps) {
      const result = await this.runStages(threads, plan, context, run, sizes);
      if (this.pipelinedSeen++ > 0) this.checkMs.pipelined.push(performance.now() - began);
      return result;
    }
    const result = this.local.forwardBackward(context, run);
    this.checkMs.local.push(performance.now() - began);
    if (this.checkMs.local.length < checkSteps) return result;
    this.checked = true;
    const pipelinedMs = median(this.checkMs.pipelined);
    const localMs = median(this.checkMs.local);
    if (localMs / pipelinedMs < minSpeedup) {
      const reason =
        `measured over ${checkSteps} steps each: pipelined ${pipelinedMs.toFixed(2)} ms, local trainer ${localMs.toFixed(2)} ms per step ` +
        `(${(localMs / pipelinedMs).toFixed(2)}× < minSpeedup ${minSpeedup}×)`;
      await this.fallBack({ step: context.step, plan, reason, pipelinedMs, localMs });
    } else {
      // The local steps moved weights and BatchNorm statistics the stages do not know: send them all again.
      this.weightsChanged(this.slots.map((slot) => slot.variable));
    }
    return result;
  }

  private async fallBack(fallback: PipelineFallback): Promise<void> {
    this.fallback = fallback;
    this.checked = true;
    await this.threads?.terminate();
    this.threads = null;
    this.config.onFallback(fallback);
  }

  /** Why the run left the pipeline (null while it pipelines). */
  get fellBack(): PipelineFallback | null {
    return this.fallback;
  }

  /** The measured comparison so far: median ms per step of each kind (null before it has values). */
  get comparison(): { pipelinedMs: number | null; localMs: number | null } {
    const of = (values: number[]) => (values.length > 0 ? median(values) : null);
    return { pipelinedMs: of(this.checkMs.pipelined), localMs: of(this.checkMs.local) };
  }

  private async planFor(threads: StageThreads, context: StepContext, sizes: number[]): Promise<PipelinePlan> {
    const { options } = this.config;
    // Profiled at the first micro-batch shape; a smaller (tail) batch reuses it, a larger one profiles anew.
    if (!this.profile || sizes[0]! > this.profiledMicroBatch) await this.profileUnits(threads, [sizes[0]!, ...context.batch.x.shape.slice(1)]);
    const key = `${context.forwardStart.unit}:${context.frozenPrefix}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planStep({
        profile: this.profile!,
        messageLatencyMs: this.messageLatencyMs,
        unitNames: this.units.map((unit) => unit.name),
        forwardStart: context.forwardStart.unit,
        frozenPrefix: context.frozenPrefix,
        stages: options.stages,
        microBatchSize: this.profiledMicroBatch,
        microBatches: sizes.length,
      });
      this.plans.set(key, plan);
    }
    if (key !== this.planKey) {
      this.planKey = key;
      this.config.onPlan(plan, context.step);
    }
    return plan;
  }

  private async profileUnits(threads: StageThreads, inputShape: number[]): Promise<void> {
    this.profile = await threads.run<UnitProfile>('profiling the units', this.setupTimeoutMs, () => 'stage 0', (_, message, finish) => {
      if (message.type === 'profile') finish(message.profile);
    }, () => threads.post(0, { type: 'profile', inputShape, repeats: this.config.options.profileRepeats }));
    this.profiledMicroBatch = inputShape[0]!;
    // Profiling trained stage 0's copy (BatchNorm statistics moved): it holds nothing of ours now.
    this.stageVersions[0] = new Map();
    const latencies: number[] = [];
    for (let ping = 0; ping < MESSAGE_PINGS; ping++) {
      const began = performance.now();
      await threads.run('ping', this.setupTimeoutMs, () => 'stage 0', (_, message, finish) => message.type === 'pong' && finish(undefined), () => threads.post(0, { type: 'ping' }));
      latencies.push((performance.now() - began) / 2);
    }
    this.messageLatencyMs = latencies.sort((a, b) => a - b)[MESSAGE_PINGS >> 1]!;
    this.plans.clear();
    this.planKey = '';
  }

  private stageMessages(plan: PipelinePlan, context: StepContext, sizes: number[]): StepMessage[] {
    const { frozenPrefix, skip, forwardStart } = context;
    const step = ++this.exchangeStep;
    const stageCount = plan.stages.length;
    return plan.stages.map(({ from, to }, stage): StepMessage => {
      const backward = to > frozenPrefix;
      const trained = this.slots
        .filter((slot) => !slot.state && slot.unit >= Math.max(from, frozenPrefix) && slot.unit < to && slot.variable.trainable && !skip.has(slot.variable.name))
        .map(({ unit, index, state }) => ({ unit, index, state }));
      const known = this.stageVersions[stage]!;
      const weights: SlotValue[] = [];
      for (const slot of this.slots) {
        if (slot.unit < from || slot.unit >= to) continue;
        const version = this.versions.get(slot.variable) ?? 0;
        if (known.get(slot.variable) === version) continue;
        weights.push({ unit: slot.unit, index: slot.index, state: slot.state, tensor: toTransfer(slot.variable) });
        known.set(slot.variable, version);
      }
      return {
        type: 'step',
        step,
        from,
        to,
        frozenPrefix,
        microBatchSizes: sizes,
        operations: stageOperations(this.config.options.schedule, stage, stageCount, sizes.length, backward),
        trained,
        inputGradient: stage > 0 && from > frozenPrefix,
        deferWeightGradients: this.config.options.deferWeightGradients,
        reportFrozenOutput: frozenPrefix > forwardStart.unit && from < frozenPrefix && frozenPrefix <= to,
        weights,
        input: stage === 0 ? toTransfer(forwardStart.input) : null,
        last: stage === stageCount - 1,
      };
    });
  }

  private async runStages(threads: StageThreads, plan: PipelinePlan, context: StepContext, run: StepRun, sizes: number[]): Promise<ForwardBackwardResult> {
    const began = performance.now();
    let forwardEnded = began;
    const messages = this.stageMessages(plan, context, sizes);
    const sendMs = performance.now() - began;
    const step = messages[0]!.step;
    const stageCount = messages.length;
    const lastStage = stageCount - 1;
    const needsBackward = context.frozenPrefix < this.units.length;
    const needsFrozen = context.frozenPrefix > context.forwardStart.unit;
    const offsets = microBatchOffsets(sizes);
    const gather: StepGather = { outputs: [], losses: [], metrics: [], frozenOutputs: [], done: [], forwardReported: false };
    let outputsIn = 0;
    let frozenIn = 0;
    const penalty = this.penalty(context);

    const reportForward = () => {
      const output = tf.concat(gather.outputs);
      const loss = tf.tidy(() => (penalty ? tf.add(tf.addN(gather.losses), penalty.value) : tf.addN(gather.losses))) as tf.Scalar;
      const frozenOutput = needsFrozen ? tf.concat(gather.frozenOutputs) : null;
      tf.dispose([...gather.outputs, ...gather.frozenOutputs, ...gather.losses]);
      gather.outputs = [];
      gather.frozenOutputs = [];
      gather.losses = [loss];
      if (frozenOutput) gather.frozenOutputs = [frozenOutput];
      try {
        run.forwardDone({ output, loss, frozenOutput });
      } finally {
        // Hooks saw the output in afterForward; like the local strategy's, it lives no longer.
        output.dispose();
      }
      gather.forwardReported = true;
      forwardEnded = performance.now();
    };

    const onOutput = (microBatch: number, output: tf.Tensor) => {
      const y = tf.slice(context.batch.y, offsets[microBatch]!, sizes[microBatch]!);
      const share = sizes[microBatch]! / context.batchSize;
      const lossOf = (out: tf.Tensor) => tf.mul(tf.mean(run.loss(y, out)), share) as tf.Scalar;
      if (needsBackward) {
        const { value, grad } = tf.valueAndGrad(lossOf)(output);
        gather.losses[microBatch] = value;
        const tensor = toTransfer(grad);
        threads.post(lastStage, { type: 'outputGradient', step, microBatch, tensor }, buffersOf([tensor]));
        grad.dispose();
      } else gather.losses[microBatch] = tf.tidy(() => lossOf(output));
      gather.metrics[microBatch] = run.metrics.map((metric) => tf.tidy(() => tf.mul(tf.mean(metric.fn(y, output)), share) as tf.Scalar));
      gather.outputs[microBatch] = output;
      y.dispose();
    };

    try {
      await threads.run<void>(`step ${context.step}`, this.config.options.stepTimeoutMs, () => this.missing(gather, stageCount, sizes.length, outputsIn), (stage, message: FromStage, finish) => {
        if (message.type === 'output' && message.step === step) {
          onOutput(message.microBatch, fromTransfer(message.tensor));
          outputsIn++;
        } else if (message.type === 'frozenOutput' && message.step === step) {
          gather.frozenOutputs[message.microBatch] = fromTransfer(message.tensor);
          frozenIn++;
        } else if (message.type === 'done' && message.step === step) {
          gather.done[stage] = message;
        } else return;
        if (!gather.forwardReported && outputsIn === sizes.length && (!needsFrozen || frozenIn === sizes.length)) reportForward();
        if (gather.forwardReported && gather.done.filter(Boolean).length === stageCount) finish();
      }, () => {
        messages.forEach((message, stage) => threads.post(stage, message, buffersOf([...message.weights.map((w) => w.tensor), ...(message.input ? [message.input] : [])])));
      });
    } catch (error) {
      tf.dispose([...gather.outputs, ...gather.losses, ...gather.metrics.flat(), ...gather.frozenOutputs, ...(penalty ? [penalty.value, ...Object.values(penalty.gradients)] : [])]);
      throw error;
    }

    const ended = performance.now();
    const gradients = this.gradientsOf(gather.done, penalty?.gradients ?? {});
    this.storeStatistics(gather.done);
    const receiveMs = performance.now() - ended;
    const busyMs = gather.done.map((done) => done.busyMs);
    const wallMs = ended - began;
    this.lastTiming = {
      step: context.step,
      stages: stageCount,
      microBatches: sizes.length,
      wallMs,
      busyMs,
      bubbleFraction: Math.max(0, 1 - busyMs.reduce((a, b) => a + b, 0) / (stageCount * wallMs)),
      copyMs: sendMs + receiveMs,
      deferredProducts: gather.done.map((done) => done.deferredProducts),
      tensorsAlive: gather.done.map((done) => done.tensorsAlive),
    };
    this.config.onStep(this.lastTiming);
    const metricValues = run.metrics.map((_, i) => tf.tidy(() => tf.addN(gather.metrics.map((parts) => parts[i]!))) as tf.Scalar);
    tf.dispose(gather.metrics.flat());
    if (penalty) penalty.value.dispose();
    return {
      loss: gather.losses[0] as tf.Scalar,
      gradients,
      metricValues,
      frozenOutput: gather.frozenOutputs[0] ?? null,
      forwardMs: forwardEnded - began,
      backwardMs: ended - forwardEnded,
    };
  }

  private missing(gather: StepGather, stages: number, microBatches: number, outputs: number): string {
    const silent = Array.from({ length: stages }, (_, stage) => stage).filter((stage) => !gather.done[stage]);
    return `stage(s) ${silent.join(', ')} did not finish; ${outputs}/${microBatches} outputs arrived`;
  }

  /** Summed gradients by variable name; regularisation penalties' gradients added here. */
  private gradientsOf(done: readonly StepDone[], penaltyGradients: tf.NamedTensorMap): tf.NamedTensorMap {
    const gradients: tf.NamedTensorMap = {};
    for (const stage of done) {
      for (const value of stage.gradients) gradients[this.slotOf(value).variable.name] = fromTransfer(value.tensor);
    }
    for (const [name, gradient] of Object.entries(penaltyGradients)) {
      const sum = gradients[name];
      gradients[name] = sum ? tf.add(sum, gradient) : gradient;
      if (sum) tf.dispose([sum, gradient]);
    }
    return gradients;
  }

  /** BatchNorm moving statistics come back from the stage that trained the unit: the model holds them. */
  private storeStatistics(done: readonly StepDone[]): void {
    done.forEach((stage, index) => {
      for (const value of stage.state) {
        const { variable } = this.slotOf(value);
        tf.tidy(() => variable.assign(fromTransfer(value.tensor)));
        const version = (this.versions.get(variable) ?? 0) + 1;
        this.versions.set(variable, version);
        this.stageVersions[index]!.set(variable, version);
      }
    });
  }

  private slotOf(slot: VariableSlot): Slot {
    const found = this.slotByKey.get(slotKey(slot));
    if (!found) throw new Error(`plugin-pipeline: a stage answered for an unknown variable (unit ${slot.unit}, ${slot.index})`);
    return found;
  }

  /**
   * Regularisation penalties of the trained units, with their gradients: they depend on weights only,
   * so the training thread adds them once per batch, as the local strategy's loss does.
   */
  private penalty(context: StepContext): { value: tf.Scalar; gradients: tf.NamedTensorMap } | null {
    const units = this.units.slice(context.frozenPrefix).filter((unit) => (unit.regularizationLosses?.() ?? []).length > 0);
    if (units.length === 0) return null;
    const variables = units.flatMap((unit) => unit.variables.filter((v) => v.trainable && !context.skip.has(v.name)));
    const total = () => tf.addN(units.flatMap((unit) => unit.regularizationLosses!())) as tf.Scalar;
    if (variables.length === 0) return { value: tf.tidy(total), gradients: {} };
    const { value, grads } = tf.variableGrads(total, variables);
    return { value, gradients: grads };
  }

  /** The forward starts past the last unit (a cache holds the model's output): only the loss is left. */
  private lossOnly(context: StepContext, run: StepRun): ForwardBackwardResult {
    const began = performance.now();
    const output = context.forwardStart.input;
    const loss = tf.tidy(() => tf.mean(run.loss(context.batch.y, output))) as tf.Scalar;
    run.forwardDone({ output, loss, frozenOutput: null });
    const metricValues = run.metrics.map((metric) => tf.tidy(() => tf.mean(metric.fn(context.batch.y, output))) as tf.Scalar);
    return { loss, gradients: {}, metricValues, frozenOutput: null, forwardMs: performance.now() - began, backwardMs: 0 };
  }
}

function slotKey(slot: VariableSlot): string {
  return `${slot.unit}:${slot.index}:${slot.state ? 'state' : 'trained'}`;
}
