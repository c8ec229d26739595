import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createEvents, type TrainerEvents } from './events.js';
import { evaluateUnits, type EvaluateOptions } from './evaluate.js';
import { fitDatasetLoop, fitLoop, type DatasetLike, type FitDatasetOptions, type FitOptions, type TrainHistory } from './fit-loop.js';
import { unitsFromLayersModel } from './graph-units.js';
import { createHooks, type TrainerHooks } from './hooks.js';
import { lossAndMetricsOfCompiledModel, resolveLoss, resolveMetrics, type LossOrMetricFn, type NamedMetric } from './loss.js';
import { DEFAULT_TRAINER_OPTIONS, type TrainerOptions } from './options.js';
import { createStepContext, type Batch, type StepContext } from './step-context.js';
import { microsecondsSince, Telemetry, type TrainerStats } from './telemetry.js';
import { isUnitModel, type Unit, type UnitModel } from './units.js';
import { VariableOptimizers } from './variable-optimizers.js';
import { LocalStrategy } from './local-strategy.js';
import type { StepStrategy } from './strategy.js';
import { yieldIfDue } from './yield.js';

/** A plugin, webpack style: an object whose apply() taps the trainer's hooks. */
export interface TrainerPlugin {
  readonly name?: string;
  apply(trainer: Trainer): void;
}

export type TrainableModel = tfl.LayersModel | UnitModel;

/**
 * Runs training steps over a model seen as units. With no plugins a step is exactly what
 * `model.fit` does; plugins decide per step which units are frozen, where the forward starts and
 * which variables get gradients — the trainer keeps weights, optimizer slots and BatchNorm
 * statistics of everything left out bit-identical.
 */
export class Trainer {
  readonly hooks: TrainerHooks = createHooks();
  readonly events: TrainerEvents = createEvents();
  readonly telemetry = new Telemetry();
  readonly units: readonly Unit[];
  readonly model: TrainableModel;
  readonly loss: LossOrMetricFn;
  readonly metrics: readonly NamedMetric[];
  readonly optimizers: VariableOptimizers;
  /** How forward and backward execute (this process by default). */
  readonly strategy: StepStrategy;
  /** Set to true (e.g. from a callback) to end fit() after the current batch. */
  stopTraining = false;

  private readonly plugins: TrainerPlugin[] = [];
  private frozen = 0;
  private stepCount = 0;
  private epochCount = 0;
  private setupDone: Promise<void> | null = null;
  private variableCountCache = -1;

  constructor(model: TrainableModel, options: TrainerOptions = {}) {
    this.model = model;
    this.units = options.units ?? (isUnitModel(model) ? model.units : unitsFromLayersModel(model));
    if (this.units.length === 0) throw new Error('trainhooks: the model has no units');

    const compiled = isUnitModel(model) ? null : lossAndMetricsOfCompiledModel(model);
    const lossOption = options.loss;
    if (lossOption === undefined && !compiled) {
      throw new Error('trainhooks: pass options.loss, or compile the model first');
    }
    this.loss = lossOption === undefined ? compiled!.loss : resolveLoss(lossOption);
    this.metrics =
      options.metrics !== undefined || !compiled || lossOption !== undefined
        ? resolveMetrics(options.metrics ?? DEFAULT_TRAINER_OPTIONS.metrics, lossOption ?? this.loss)
        : compiled.metrics;

    const optimizer = options.optimizer ?? (isUnitModel(model) ? undefined : compiledOptimizer(model));
    if (!optimizer) throw new Error('trainhooks: pass options.optimizer, or compile the model first');
    this.optimizers = new VariableOptimizers(optimizer);
    this.strategy = options.strategy ?? new LocalStrategy();
  }

  /** Adds a plugin; chainable. */
  use(plugin: TrainerPlugin): this {
    if (this.setupDone) throw new Error('trainhooks: add plugins before training starts');
    plugin.apply(this);
    this.plugins.push(plugin);
    return this;
  }

  get pluginNames(): string[] {
    return this.plugins.map((plugin) => plugin.name ?? plugin.constructor.name);
  }

  /** Units [0, frozenPrefix) are frozen: forward in inference mode, no backward, no update. */
  get frozenPrefix(): number {
    return this.frozen;
  }

  set frozenPrefix(units: number) {
    if (!Number.isInteger(units) || units < 0 || units > this.units.length) {
      throw new RangeError(`trainhooks: frozenPrefix must be an integer in [0, ${this.units.length}]`);
    }
    this.frozen = units;
  }

  /** Steps run so far (over all fit calls). */
  get globalStep(): number {
    return this.stepCount;
  }

  get epoch(): number {
    return this.epochCount;
  }

  get learningRate(): number {
    return this.optimizers.currentLearningRate;
  }

  /** Changes the learning rate of every variable's optimizer and fires lrChange. */
  async setLearningRate(learningRate: number): Promise<void> {
    const previous = this.learningRate;
    this.optimizers.setLearningRate(learningRate);
    if (previous !== learningRate) {
      await this.hooks.lrChange.promise({ previous, next: learningRate });
      this.events.emit('lrChange', { previous, next: learningRate });
    }
  }

  /** Trainable variables of the units, in unit order. */
  get variables(): tf.Variable[] {
    return this.units.flatMap((unit) => [...unit.variables]);
  }

  /** One optimisation step on a batch (for custom loops); resolves to the batch's mean loss. */
  async step(batch: Batch): Promise<number> {
    const logs = await this.runStep(batch, this.epochCount);
    return logs.loss!;
  }

  /** LayersModel.fit semantics and History, with the hooks in every step. */
  fit(x: tf.Tensor, y: tf.Tensor, options: FitOptions = {}): Promise<TrainHistory> {
    return fitLoop(this, x, y, options);
  }

  /** LayersModel.fitDataset semantics; elements are {xs, ys, ids?} or [xs, ys]. */
  fitDataset(dataset: DatasetLike, options: FitDatasetOptions): Promise<TrainHistory> {
    return fitDatasetLoop(this, dataset, options);
  }

  /** Loss and metrics in inference mode, averaged over all samples: { loss, acc, … }. */
  evaluate(x: tf.Tensor, y: tf.Tensor, options: EvaluateOptions = {}): Promise<Record<string, number>> {
    return evaluateUnits(this.units, this.loss, this.metrics, x, y, options);
  }

  /** Latency percentiles per phase (µs) and counters. */
  stats(): TrainerStats {
    return this.telemetry.summary();
  }

  /** Runs setup hooks once, before the first step. */
  async ensureSetup(): Promise<void> {
    this.setupDone ??= this.hooks.setup.promise();
    await this.setupDone;
  }

  /** Internal to the fit loops: marks an epoch boundary. */
  async beginEpoch(epoch: number): Promise<void> {
    this.epochCount = epoch;
    await this.ensureSetup();
    if (this.hooks.beforeEpoch.isUsed()) await this.hooks.beforeEpoch.promise({ epoch, logs: {} });
  }

  async endEpoch(epoch: number, logs: Record<string, number>): Promise<void> {
    if (this.hooks.afterEpoch.isUsed()) await this.hooks.afterEpoch.promise({ epoch, logs });
    this.events.emit('epoch', { epoch, logs });
  }

  /** Runs one step with all hooks and returns its logs ({loss, acc, …}). */
  async runStep(batch: Batch, epoch: number): Promise<Record<string, number>> {
    await this.ensureSetup();
    const { hooks, telemetry } = this;
    const stepStart = performance.now();
    const context = createStepContext({
      step: this.stepCount,
      epoch,
      batch,
      unitCount: this.units.length,
      frozenPrefix: this.frozen,
    });
    if (hooks.beforeStep.isUsed()) await hooks.beforeStep.promise(context);
    if (hooks.beforeForward.isUsed()) await hooks.beforeForward.promise(context);
    validateDecisions(context);

    let kept: tf.Tensor[] = [];
    try {
      const result = await this.strategy.forwardBackward(context, this);
      kept = [result.loss, ...Object.values(result.gradients), ...result.metricValues];
      if (result.frozenOutput) kept.push(result.frozenOutput);
      telemetry.record('forward', result.forwardMs * 1000);
      telemetry.record('backward', result.backwardMs * 1000);

      // Whatever the strategy left in the context, hooks from here on see only the surviving tensors.
      context.loss = result.loss;
      context.output = null;
      context.frozenOutput = result.frozenOutput;
      context.gradients = { ...result.gradients };
      if (hooks.afterBackward.isUsed()) hooks.afterBackward.call(context);

      if (hooks.beforeAllReduce.isUsed()) {
        const allReduceStart = performance.now();
        context.gradients = await hooks.beforeAllReduce.promise(context.gradients, context);
        telemetry.record('allreduce', microsecondsSince(allReduceStart));
      }
      if (hooks.beforeUpdate.isUsed()) hooks.beforeUpdate.call(context);

      const updateStart = performance.now();
      await this.optimizers.apply(context.gradients);
      telemetry.record('update', microsecondsSince(updateStart));

      const values = await Promise.all([result.loss, ...result.metricValues].map((t) => t.data()));
      context.logs.loss = values[0]![0]!;
      this.metrics.forEach((metric, i) => (context.logs[metric.name] = values[i + 1]![0]!));
      // Counted after the hooks: a plugin may have dropped gradients in afterBackward.
      this.countSkippedWork(context, Object.keys(context.gradients).length);
      if (hooks.afterStep.isUsed()) await hooks.afterStep.promise(context);
    } finally {
      // Gradients a hook put in place of the originals are the trainer's to free as well.
      tf.dispose([...new Set([...kept, ...Object.values(context.gradients)])]);
      context.loss = null;
      context.frozenOutput = null;
      context.gradients = {};
    }
    const durationUs = microsecondsSince(stepStart);
    telemetry.record('step', durationUs);
    this.events.emit('step', {
      step: context.step,
      epoch,
      loss: context.logs.loss!,
      batchSize: context.ids.length,
      frozenPrefix: context.frozenPrefix,
      skipped: context.skip.size,
      durationMs: durationUs / 1000,
    });
    this.stepCount++;
    await yieldIfDue();
    return context.logs;
  }

  private countSkippedWork(context: StepContext, updatedVariables: number): void {
    const { telemetry } = this;
    telemetry.count('steps');
    telemetry.count('samples', context.ids.length);
    telemetry.count('frozenUnitSteps', context.frozenPrefix);
    telemetry.count('skippedUnitForwards', context.forwardStart.unit);
    telemetry.count('variableUpdates', updatedVariables);
    telemetry.count('skippedVariableUpdates', this.variableCount() - updatedVariables);
  }

  private variableCount(): number {
    if (this.variableCountCache < 0) this.variableCountCache = this.variables.length;
    return this.variableCountCache;
  }

  /** Fires teardown and frees the per-variable optimizer state. The model is left to its owner. */
  async dispose(): Promise<void> {
    if (this.setupDone) await this.hooks.teardown.promise();
    await this.strategy.dispose?.();
    this.optimizers.dispose();
  }
}

function validateDecisions(context: StepContext): void {
  const { frozenPrefix, forwardStart, unitCount } = context;
  if (!Number.isInteger(frozenPrefix) || frozenPrefix < 0 || frozenPrefix > unitCount) {
    throw new RangeError(`trainhooks: frozenPrefix ${frozenPrefix} is outside [0, ${unitCount}]`);
  }
  // A forward that starts past the frozen prefix would leave trainable units unrun.
  if (forwardStart.unit < 0 || forwardStart.unit > Math.max(frozenPrefix, 0)) {
    throw new RangeError(
      `trainhooks: the forward may start at unit ${forwardStart.unit} only if units before it are frozen ` +
        `(frozenPrefix is ${frozenPrefix})`,
    );
  }
}

function compiledOptimizer(model: tfl.LayersModel): tf.Optimizer | undefined {
  try {
    return model.optimizer ?? undefined;
  } catch {
    return undefined;
  }
}

/** Wraps a model for training with hooks: `createTrainer(model).use(plugin).fit(x, y, …)`. */
export function createTrainer(model: TrainableModel, options?: TrainerOptions): Trainer {
  return new Trainer(model, options);
}
