import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkPositiveInteger, checkSamples, checkKnownOptions, type DeclaredShapes } from './argument-checks.js';
import { createEvents, type TrainerEvents } from './events.js';
import { evaluateUnits, type EvaluateOptions } from './evaluate.js';
import { fitDatasetLoop, type DatasetLike, type FitDatasetOptions } from './fit-dataset-loop.js';
import { fitLoop, type FitOptions } from './fit-loop.js';
import type { FitPosition } from './fit-position.js';
import { writeCheckpoint } from './checkpoint.js';
import { layersModelFiles, variableValues } from './checkpoint-weights.js';
import type { FitHost, TrainHistory } from './training-session.js';
import { unitsFromLayersModel } from './graph-units.js';
import { DropoutSeeds } from './dropout-seeds.js';
import { markedPretrainedUnits } from './pretrained-units.js';
import { createHooks, type CheckpointSave, type TrainerHooks } from './hooks.js';
import { LocalStrategy } from './local-strategy.js';
import { lossAndMetricsOfCompiledModel, resolveLoss, resolveMetrics, type LossName, type LossOrMetricFn, type NamedMetric } from './loss.js';
import { checkLayersModel, checkUnits } from './model-support.js';
import { checkTrainerOptions, DEFAULT_TRAINER_OPTIONS, type TrainerOptions } from './options.js';
import { createStepContext, type Batch, type GradientMap, type StepContext } from './step-context.js';
import type { ForwardBackwardResult, ForwardReport, StepRun, StepStrategy } from './strategy.js';
import { microsecondsSince, Telemetry, type TrainerStats } from './telemetry.js';
import { isUnitModel, unitWeights, type Unit, type UnitModel } from './units.js';
import { VariableOptimizers, type OptimizerState } from './variable-optimizers.js';
import { yieldIfDue } from './yield.js';

/** A plugin, webpack style: an object whose apply() taps the trainer's hooks. */
/**
 * How a plugin makes training faster, so that a report reads its numbers right: a plugin that skips
 * work and skipped none has not made a run faster, whatever the clock says; one that runs in parallel
 * can, without skipping anything.
 */
export interface PluginDescription {
  /** 'skips-work': frozen, pruned or cached work (its skip counters say how much); 'parallel': more threads or processes; 'none': neither. */
  readonly speedup: 'skips-work' | 'parallel' | 'none';
  /** It sends gradients between processes, so gradient bytes it did not send are a saving. */
  readonly communicates: boolean;
}

export interface TrainerPlugin {
  readonly name?: string;
  apply(trainer: Trainer): void;
  /** What the plugin did (decisions, timings, counters) as plain JSON-serialisable data; collected by `trainer.reports()`. */
  report?(): unknown;
  /** How it makes training faster, for reports (without it, a report assumes nothing about the plugin). */
  describe?(): PluginDescription;
}

/**
 * The state contract. A plugin that `trainer.save` can checkpoint implements it — a plugin without
 * state too (it exports `{}`), so that a checkpoint never silently lacks a plugin's state.
 */
export interface StatefulPlugin<S = unknown> extends TrainerPlugin {
  /** Where its state sits in a checkpoint; unique among a trainer's plugins ('freeze', 'grad-prune', …). */
  readonly stateKey: string;
  /** The version of the state's shape; a checkpoint with another version is refused. */
  readonly stateVersion: number;
  /** Plain data and typed arrays (no tensors): a checkpoint writes typed arrays as binary files. */
  exportState(): S | Promise<S>;
  importState(state: S): void | Promise<void>;
}

export function isStatefulPlugin(plugin: TrainerPlugin): plugin is StatefulPlugin {
  const candidate = plugin as Partial<StatefulPlugin>;
  return (
    typeof candidate.stateKey === 'string' &&
    candidate.stateKey.length > 0 &&
    Number.isInteger(candidate.stateVersion) &&
    typeof candidate.exportState === 'function' &&
    typeof candidate.importState === 'function'
  );
}

export type TrainableModel = tfl.LayersModel | UnitModel;

/** Everything `exportState` saves besides the model's weights (`save` writes those too). */
export interface TrainerState {
  readonly version: 2;
  readonly globalStep: number;
  readonly epoch: number;
  readonly frozenPrefix: number;
  /** options.dropoutSeed of the run (null: tfjs' own masks); a restored trainer takes it over. */
  readonly dropoutSeed: number | null;
  readonly optimizer: OptimizerState;
  /** Where the last fit over tensors stood (null after fitDataset or a hand-driven step): what a resumed fit continues. */
  readonly position: FitPosition | null;
  /** Each plugin's state under its `stateKey`, with the version it was written in. */
  readonly plugins: Record<string, { readonly version: number; readonly state: unknown }>;
}

/** The LayersModel fields the trainer shares with model.fit (tfjs keeps them public but undeclared). */
interface LayersModelTrainingFlags {
  isTraining: boolean;
  stopTraining: boolean;
}

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
  private readonly optimizers: VariableOptimizers;
  /** Set to true (e.g. from a callback) to end fit() after the current batch; reset when fit starts. */
  stopTraining = false;

  private readonly plugins: TrainerPlugin[] = [];
  private currentStrategy: StepStrategy;
  /** Who replaced the default strategy (a plugin name or 'options.strategy'), if anyone. */
  private strategyOwner: string | null = null;
  private frozen = 0;
  private stepCount = 0;
  private epochCount = 0;
  private position: FitPosition | null = null;
  private readonly nonFiniteLoss: 'stop' | 'skip-step';
  /** Set by importState: the next fit continues from it. */
  private resumePosition: FitPosition | null = null;
  private setupDone: Promise<void> | null = null;
  /** Set once setup has run: from then on the strategy is fixed. */
  private strategyLocked = false;
  private readonly fitHost: FitHost;
  private training = false;
  private stepRunning = false;
  private readonly layersModel: tfl.LayersModel | null;
  private readonly pretrained: number;
  /** Per-step Dropout seeds (options.dropoutSeed, or a checkpoint's), else null: tfjs' own masks. */
  private dropoutSeeds: DropoutSeeds | null = null;
  private readonly declaredShapes: DeclaredShapes | null;
  private readonly unitOfVariable = new Map<string, number>();
  private readonly variableByName = new Map<string, tf.Variable>();

  constructor(model: TrainableModel, options: TrainerOptions = {}) {
    checkTrainerOptions(options);
    if (model === null || typeof model !== 'object') {
      throw new Error(`trainhooks: createTrainer needs a tfjs LayersModel or a { units } model, got ${String(model)}`);
    }
    this.model = model;
    this.layersModel = isUnitModel(model) ? null : model;
    if (this.layersModel) checkLayersModel(this.layersModel);
    const units = options.units ?? (this.layersModel ? unitsFromLayersModel(this.layersModel) : (model as UnitModel).units);
    checkUnits(units, this.layersModel);
    this.units = units;
    if (options.dropoutSeed !== undefined) this.seedDropout(options.dropoutSeed);
    this.pretrained = resolvePretrainedUnits(options.pretrainedUnits, model, units);
    this.units.forEach((unit, index) => {
      for (const variable of unit.variables) {
        this.unitOfVariable.set(variable.name, index);
        this.variableByName.set(variable.name, variable);
      }
    });

    const compiled = this.layersModel ? lossAndMetricsOfCompiledModel(this.layersModel) : null;
    const lossOption = options.loss;
    if (lossOption === undefined && !compiled) {
      throw new Error('trainhooks: pass options.loss, or compile the model first');
    }
    this.loss = lossOption === undefined ? compiled!.loss : resolveLoss(lossOption);
    // The loss as given decides what 'accuracy' means; a compiled model remembers its compile argument.
    const lossIdentity = lossOption ?? (this.layersModel as unknown as { loss: LossName | LossOrMetricFn }).loss;
    const outputShape = this.layersModel?.outputs[0]!.shape;
    this.metrics =
      options.metrics !== undefined || !compiled || lossOption !== undefined
        ? resolveMetrics(options.metrics ?? DEFAULT_TRAINER_OPTIONS.metrics, {
            loss: lossIdentity,
            outputUnits: outputShape?.[outputShape.length - 1] ?? undefined,
          })
        : compiled.metrics;
    this.declaredShapes = this.layersModel ? declaredShapesOf(this.layersModel, lossIdentity) : null;

    const optimizer = options.optimizer ?? (this.layersModel ? compiledOptimizer(this.layersModel) : undefined);
    if (!optimizer) throw new Error('trainhooks: pass options.optimizer, or compile the model first');
    this.optimizers = new VariableOptimizers(optimizer);
    this.nonFiniteLoss = options.onNonFiniteLoss ?? 'stop';
    this.currentStrategy = options.strategy ?? new LocalStrategy();
    if (options.strategy) this.strategyOwner = 'options.strategy';
    this.fitHost = this.createFitHost();
  }

  /** Adds a plugin; chainable. */
  use(plugin: TrainerPlugin): this {
    if (plugin === null || typeof plugin !== 'object' || typeof plugin.apply !== 'function') {
      throw new Error(`trainhooks: use() takes a plugin (an object with apply(trainer)), got ${String(plugin)}`);
    }
    if (this.setupDone) throw new Error('trainhooks: add plugins before training starts');
    this.plugins.push(plugin);
    plugin.apply(this);
    return this;
  }

  get pluginNames(): string[] {
    return this.plugins.map(pluginName);
  }

  /** Every attached plugin's `report()`, by plugin name (plugins without one are left out). */
  reports(): Record<string, unknown> {
    return Object.fromEntries(this.plugins.flatMap((plugin) => (typeof plugin.report === 'function' ? [[pluginName(plugin), plugin.report()]] : [])));
  }

  /** How forward and backward execute (this process by default). */
  get strategy(): StepStrategy {
    return this.currentStrategy;
  }

  /**
   * Replaces how steps execute (pipeline stages, data-parallel ranks). Allowed from a plugin's
   * `apply` or a `setup` tap, i.e. before the first step; only one party may replace it.
   */
  useStrategy(strategy: StepStrategy, owner: string): void {
    if (this.strategyLocked) throw new Error(`trainhooks: ${owner} cannot change the strategy after training started`);
    if (typeof strategy?.forwardBackward !== 'function') throw new Error(`trainhooks: ${owner} passed no StepStrategy to useStrategy`);
    if (this.strategyOwner && this.strategyOwner !== owner) {
      throw new Error(`trainhooks: ${owner} cannot install strategy '${strategy.name}': ${this.strategyOwner} already installed '${this.currentStrategy.name}'`);
    }
    this.currentStrategy = strategy;
    this.strategyOwner = owner;
  }

  /**
   * Units [0, frozenPrefix) are frozen: forward in inference mode, no backward, no update. The one
   * source of truth: each step's `context.frozenPrefix` starts here, and what beforeForward leaves
   * in it is kept here.
   */
  get frozenPrefix(): number {
    return this.frozen;
  }

  set frozenPrefix(units: number) {
    checkFrozenPrefix(units, this.units.length);
    this.changeFrozenPrefix(units);
  }

  private changeFrozenPrefix(next: number): void {
    const previous = this.frozen;
    if (previous === next) return;
    this.frozen = next;
    this.events.emit('frozenPrefix', { step: this.stepCount, previous, next });
  }

  /** Steps run so far (over all fit calls). */
  /**
   * Leading units whose weights came pretrained (options.pretrainedUnits; by default every unit below
   * the head of a replaceHead model, else 0). Plugins judge a fine-tuning by it.
   */
  get pretrainedUnits(): number {
    return this.pretrained;
  }

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

  /**
   * One optimisation step on a batch, with every hook: the public way to drive the trainer from a
   * custom loop. Resolves to the step's logs ({ loss, acc, … }, batch means).
   */
  async step(batch: Batch): Promise<Record<string, number>> {
    if (batch === null || typeof batch !== 'object') throw new Error(`trainhooks: step() takes a batch { x, y, ids? }, got ${String(batch)}`);
    checkSamples(['batch.x', 'batch.y'], batch.x, batch.y, this.declaredShapes);
    // A hand-driven loop keeps its own position: a checkpoint holds none.
    this.position = null;
    return this.runStep(batch);
  }

  /** LayersModel.fit semantics and History, with the hooks in every step. */
  fit(x: tf.Tensor, y: tf.Tensor, options: FitOptions = {}): Promise<TrainHistory> {
    return fitLoop(this.fitHost, x, y, options);
  }

  /** LayersModel.fitDataset semantics; elements are {xs, ys, ids?} or [xs, ys]. */
  fitDataset(dataset: DatasetLike, options: FitDatasetOptions): Promise<TrainHistory> {
    if (this.resumePosition) {
      return Promise.reject(new Error('trainhooks: this trainer was restored mid-fit: continue it with trainer.fit over the same tensors (a dataset cannot be resumed at a position)'));
    }
    // A dataset's iterator cannot be captured: checkpoints taken during it hold no position.
    this.position = null;
    return fitDatasetLoop(this.fitHost, dataset, options);
  }

  /** Loss and metrics in inference mode, averaged over all samples: { loss, acc, … }. */
  async evaluate(x: tf.Tensor, y: tf.Tensor, options: EvaluateOptions = {}): Promise<Record<string, number>> {
    checkKnownOptions('evaluate options', options, ['batchSize'], { verbose: 'evaluate prints nothing', steps: 'tfjs-layers does not implement it either' });
    checkSamples(['x', 'y'], x, y, this.declaredShapes);
    const batchSize = checkPositiveInteger('batchSize', options.batchSize ?? 32);
    return evaluateUnits(this.units, this.loss, this.metrics, x, y, batchSize);
  }

  /** Latency percentiles per phase (µs) and counters. */
  stats(): TrainerStats {
    return this.telemetry.summary();
  }

  /**
   * Tell the trainer that weights changed outside it (e.g. `model.setWeights`): a strategy that
   * holds copies (stages in workers) resyncs them. Default: every variable.
   */
  async weightsChanged(variables: readonly tf.Variable[] = this.variables): Promise<void> {
    await this.currentStrategy.weightsChanged?.(variables);
  }

  /**
   * Optimizer state, frozen prefix, counters, the fit's position and the state of every plugin that
   * implements the state contract (StatefulPlugin): with the model's weights, an exact resume. In
   * memory; `save` writes it to disk, and refuses plugins without the contract.
   */
  async exportState(): Promise<TrainerState> {
    return this.stateOf(this.statefulPlugins(false));
  }

  private async stateOf(stateful: Map<string, StatefulPlugin>): Promise<TrainerState> {
    const plugins: Record<string, { version: number; state: unknown }> = {};
    for (const [key, plugin] of stateful) plugins[key] = { version: plugin.stateVersion, state: await plugin.exportState() };
    return {
      version: 2,
      globalStep: this.stepCount,
      epoch: this.epochCount,
      frozenPrefix: this.frozen,
      dropoutSeed: this.dropoutSeeds?.base ?? null,
      optimizer: await this.optimizers.exportState(this.variables),
      position: this.position && { ...this.position, order: this.position.order.slice() },
      plugins,
    };
  }

  /** Restores `exportState()` output into a trainer over the same model and plugins (weights restored separately). */
  async importState(state: TrainerState): Promise<void> {
    if (state?.version !== 2) throw new Error(`trainhooks: trainer state version ${String(state?.version)} cannot be read by this version (2)`);
    if (this.training || this.stepRunning) throw new Error('trainhooks: importState cannot run while training');
    checkFrozenPrefix(state.frozenPrefix, this.units.length);
    const plugins = this.statefulPlugins(false);
    const saved = Object.keys(state.plugins);
    const unknown = saved.filter((key) => !plugins.has(key));
    const missing = [...plugins.keys()].filter((key) => !saved.includes(key));
    if (unknown.length > 0 || missing.length > 0) {
      const parts = [unknown.length > 0 && `it holds state of ${unknown.join(', ')}, which this trainer does not use`, missing.length > 0 && `it holds none of ${missing.join(', ')}, which this trainer uses`];
      throw new Error(`trainhooks: the state is of another plugin set: ${parts.filter(Boolean).join('; ')}`);
    }
    for (const [key, plugin] of plugins) {
      const version = state.plugins[key]!.version;
      if (version !== plugin.stateVersion) throw new Error(`trainhooks: the state of ${key} has version ${version}; this ${pluginName(plugin)} reads version ${plugin.stateVersion}`);
    }
    const savedSeed = state.dropoutSeed ?? null;
    const ownSeed = this.dropoutSeeds?.base ?? null;
    if (savedSeed !== ownSeed) {
      if (ownSeed !== null) {
        throw new Error(`trainhooks: the state was trained with dropoutSeed ${String(savedSeed)}, this trainer has dropoutSeed ${ownSeed}: its Dropout masks would differ`);
      }
      this.seedDropout(savedSeed!);
    }
    this.optimizers.importState(state.optimizer, this.variables);
    this.stepCount = state.globalStep;
    this.epochCount = state.epoch;
    this.position = state.position;
    this.resumePosition = state.position;
    this.changeFrozenPrefix(state.frozenPrefix);
    for (const [key, plugin] of plugins) await plugin.importState(state.plugins[key]!.state);
    await this.weightsChanged();
  }

  /**
   * Writes a checkpoint to `dir`: the weights (a LayersModel's as model.json + weights.bin, loadable by
   * tf.loadLayersModel), and exportState() as a JSON manifest with binary sidecars. The directory is
   * replaced atomically. `restoreTrainer(dir, model, plugins)` continues from it. Call it between
   * steps: after fit, or from a callback (onBatchEnd, onEpochEnd).
   */
  async save(dir: string): Promise<void> {
    if (this.stepRunning) throw new Error('trainhooks: save runs between steps (after fit, or from a callback such as onBatchEnd), not during one');
    const stateful = this.statefulPlugins(true);
    const save: CheckpointSave = { dir, step: this.stepCount, write: true };
    await this.hooks.beforeSave.promise(save);
    try {
      if (save.write) {
        const state = await this.stateOf(stateful);
        const model = this.layersModel;
        const files = model ? await layersModelFiles(model) : new Map<string, Uint8Array>();
        const variables = model ? null : await variableValues(unitWeights(this.units).map((weight) => weight.variable));
        writeCheckpoint(dir, { state, variables }, files);
      }
    } catch (error) {
      await this.hooks.afterSave.promise(save, false);
      throw error;
    }
    await this.hooks.afterSave.promise(save, true);
  }

  /**
   * Writes the per-variable optimizer state into the compiled model's own optimizer, so a later
   * `model.fit` or `model.save({ includeOptimizer: true })` continues from it. Exact when every
   * variable has been updated and, for Adam/Adamax, equally often; otherwise it throws.
   */
  async syncModelOptimizer(): Promise<void> {
    const model = this.layersModel;
    const target = model ? compiledOptimizer(model) : undefined;
    if (!model || !target) throw new Error('trainhooks: syncModelOptimizer needs a compiled LayersModel');
    // model.fit hands its optimizer the trainable weights in this order; tfjs keys slots by position.
    await this.optimizers.writeInto(target, model.trainableWeights.map((weight) => (weight.read() as tf.Variable).name));
  }

  /**
   * The plugins with the state contract, by state key; a repeated key is an error. With `all`, a plugin
   * without the contract is an error naming it (what a checkpoint on disk must never silently lack).
   */
  private statefulPlugins(all: boolean): Map<string, StatefulPlugin> {
    const byKey = new Map<string, StatefulPlugin>();
    for (const plugin of this.plugins) {
      if (!isStatefulPlugin(plugin)) {
        if (!all) continue;
        throw new Error(
          `trainhooks: the plugin ${pluginName(plugin)} does not implement the state contract (stateKey, stateVersion, exportState, importState), ` +
            'so a checkpoint would lack its state. A plugin without state implements it with exportState() { return {} }.',
        );
      }
      if (byKey.has(plugin.stateKey)) throw new Error(`trainhooks: two plugins (${pluginName(byKey.get(plugin.stateKey)!)} and ${pluginName(plugin)}) use the state key '${plugin.stateKey}'`);
      byKey.set(plugin.stateKey, plugin);
    }
    return byKey;
  }

  private seedDropout(seed: number): void {
    if (!this.layersModel) throw new Error('trainhooks: options.dropoutSeed seeds tfjs-layers Dropout layers; this model is a { units } model (seed its randomness yourself)');
    this.dropoutSeeds = DropoutSeeds.of(this.layersModel, seed);
  }

  /** Runs setup hooks and the strategy's setup once, before the first step. */
  private ensureSetup(): Promise<void> {
    this.setupDone ??= (async () => {
      await this.hooks.setup.promise();
      await this.currentStrategy.setup?.(this);
      this.strategyLocked = true;
    })();
    return this.setupDone;
  }

  /** What the fit loops may do; kept off the public surface. */
  private createFitHost(): FitHost {
    return {
      // What tf.Callback instances get as `this.model` under model.fit: for a Sequential the LayersModel
      // it wraps (its fit runs there), for a { units } model the trainer (it has stopTraining too).
      callbackModel: (this.layersModel as { model?: unknown } | null)?.model ?? this.layersModel ?? this,
      metricNames: ['loss', ...this.metrics.map((metric) => metric.name)],
      declaredShapes: this.declaredShapes,
      shouldStop: () => this.stopTraining || (this.layersModel as LayersModelTrainingFlags | null)?.stopTraining === true,
      resetStop: () => {
        this.stopTraining = false;
        if (this.layersModel) this.layersModel.stopTraining = false;
      },
      beginTraining: () => this.beginTraining(),
      beginEpoch: async (epoch) => {
        this.epochCount = epoch;
        await this.ensureSetup();
        if (this.hooks.beforeEpoch.isUsed()) await this.hooks.beforeEpoch.promise({ epoch, logs: {} });
      },
      endEpoch: async (epoch, logs) => {
        if (this.hooks.afterEpoch.isUsed()) await this.hooks.afterEpoch.promise({ epoch, logs });
        this.events.emit('epoch', { epoch, logs });
      },
      step: (batch) => this.runStep(batch),
      takeResumePosition: () => {
        const position = this.resumePosition;
        this.resumePosition = null;
        return position;
      },
      recordPosition: (position) => void (this.position = position),
      evaluate: (x, y, batchSize) => evaluateUnits(this.units, this.loss, this.metrics, x, y, batchSize),
    };
  }

  /** One fit at a time, on this trainer and on its model (model.fit shares tfjs' isTraining flag). */
  private beginTraining(): () => void {
    // A Sequential's fit runs on the LayersModel it wraps, whose flag is the one model.fit checks.
    const flags = [this.layersModel, (this.layersModel as { model?: unknown } | null)?.model].filter(
      (model): model is LayersModelTrainingFlags => model !== null && typeof model === 'object',
    );
    if (this.training) throw new Error('trainhooks: cannot start training: another fit() or fitDataset() of this trainer is ongoing');
    if (flags.some((model) => model.isTraining)) {
      throw new Error('trainhooks: cannot start training: model.fit() or fitDataset() of this model is ongoing');
    }
    this.training = true;
    for (const model of flags) model.isTraining = true;
    return () => {
      this.training = false;
      for (const model of flags) model.isTraining = false;
    };
  }

  /** Runs one step with all hooks and returns its logs ({loss, acc, …}). */
  private async runStep(batch: Batch): Promise<Record<string, number>> {
    if (this.stepRunning) throw new Error('trainhooks: a step is already running; await it before starting another');
    this.stepRunning = true;
    try {
      await this.ensureSetup();
      return await this.runHookedStep(batch);
    } finally {
      this.stepRunning = false;
    }
  }

  private async runHookedStep(given: Batch): Promise<Record<string, number>> {
    const { hooks, telemetry } = this;
    const stepStart = performance.now();
    // tfjs code schedules the rate by writing the compiled optimizer's field; model.fit follows it, so do we.
    const requestedRate = this.optimizers.templateLearningRate;
    if (requestedRate !== this.learningRate) await this.setLearningRate(requestedRate);
    const batch = hooks.selectBatch.isUsed() ? await this.selectBatch(given) : given;
    try {
      return await this.runStepOn(batch, stepStart);
    } finally {
      // A batch a tap made (a shard) is the trainer's to free; the caller's own tensors are not.
      if (batch !== given) tf.dispose([batch.x, batch.y].filter((t) => t !== given.x && t !== given.y));
    }
  }

  private async selectBatch(given: Batch): Promise<Batch> {
    const selected = await this.hooks.selectBatch.promise(given, { step: this.stepCount, epoch: this.epochCount });
    if (selected === given) return given;
    if (selected === null || typeof selected !== 'object') {
      throw new Error(`trainhooks: a selectBatch tap must return a batch { x, y, ids? }, got ${String(selected)}`);
    }
    // checkSamples says which field is not a tensor, as it does for step() and fit().
    checkSamples(['selected batch.x', 'selected batch.y'], selected.x, selected.y, this.declaredShapes);
    return selected;
  }

  private async runStepOn(batch: Batch, stepStart: number): Promise<Record<string, number>> {
    const { hooks, telemetry } = this;
    const context = createStepContext({
      step: this.stepCount,
      epoch: this.epochCount,
      batch,
      unitCount: this.units.length,
      frozenPrefix: this.frozen,
    });
    let kept: tf.Tensor[] = [];
    try {
      if (hooks.beforeStep.isUsed()) await hooks.beforeStep.promise(context);
      if (hooks.beforeForward.isUsed()) await hooks.beforeForward.promise(context);
      validateDecisions(context);
      this.changeFrozenPrefix(context.frozenPrefix);
      this.dropoutSeeds?.seedForStep(context.step);

      const result = await this.forwardBackward(context);
      kept = [result.loss, ...Object.values(result.gradients), ...result.metricValues];
      if (result.frozenOutput) kept.push(result.frozenOutput);
      telemetry.record('forward', result.forwardMs * 1000);
      telemetry.record('backward', result.backwardMs * 1000);

      // Whatever the strategy left in the context, hooks from here on see only the surviving tensors.
      context.loss = result.loss;
      context.output = null;
      context.frozenOutput = result.frozenOutput;
      context.gradients = this.trainedOnly(context, { ...result.gradients });
      if (hooks.afterBackward.isUsed()) hooks.afterBackward.call(context);

      if (hooks.beforeAllReduce.isUsed()) {
        const allReduceStart = performance.now();
        context.gradients = await hooks.beforeAllReduce.promise(context.gradients, context);
        telemetry.record('allreduce', microsecondsSince(allReduceStart));
      }
      if (hooks.beforeUpdate.isUsed()) hooks.beforeUpdate.call(context);

      // A non-finite loss never reaches the weights (its gradients are NaN or unbounded too).
      const loss = (await result.loss.data())[0]!;
      const finite = Number.isFinite(loss) || this.onNonFiniteLoss(context, loss);
      const updateStart = performance.now();
      const applied = finite ? this.trainedOnly(context, context.gradients) : {};
      await this.optimizers.apply(applied);
      telemetry.record('update', microsecondsSince(updateStart));
      const updated = Object.keys(applied).map((name) => this.variableByName.get(name)!);
      if (updated.length > 0) await this.currentStrategy.weightsChanged?.(updated);

      const values = await Promise.all(result.metricValues.map((t) => t.data()));
      context.logs.loss = loss;
      this.metrics.forEach((metric, i) => (context.logs[metric.name] = values[i]![0]!));
      // Counted after the hooks: a plugin may have dropped gradients in afterBackward.
      this.countSkippedWork(context, updated.length);
      if (hooks.afterStep.isUsed()) await hooks.afterStep.promise(context);
    } catch (error) {
      this.freeStepTensors(context, kept);
      kept = [];
      if (hooks.stepFailed.isUsed()) await hooks.stepFailed.promise(context, error).catch(() => undefined);
      throw error;
    } finally {
      this.freeStepTensors(context, kept);
    }
    const durationUs = microsecondsSince(stepStart);
    telemetry.record('step', durationUs);
    this.events.emit('step', {
      step: context.step,
      epoch: context.epoch,
      loss: context.logs.loss!,
      batchSize: context.batchSize,
      frozenPrefix: context.frozenPrefix,
      skipped: context.skip.size,
      durationMs: durationUs / 1000,
    });
    this.stepCount++;
    await yieldIfDue();
    return context.logs;
  }

  /** A loss of NaN or ±Infinity: false when the step is to be skipped; throws when training is to stop. */
  private onNonFiniteLoss(context: StepContext, value: number): false {
    const action = this.nonFiniteLoss;
    this.events.emit('nonFiniteLoss', { step: context.step, epoch: context.epoch, loss: value, action });
    if (action === 'skip-step') {
      this.telemetry.count('nonFiniteLossSkipped');
      return false;
    }
    throw new Error(
      `trainhooks: the loss is ${value} at step ${context.step} (epoch ${context.epoch}); the weights are left as they were before it. ` +
        "Lower the learning rate or check the data; onNonFiniteLoss: 'skip-step' drops such steps instead.",
    );
  }

  /** Runs the strategy and holds it to the contract: it reports its forward exactly once. */
  private async forwardBackward(context: StepContext): Promise<ForwardBackwardResult> {
    const { hooks } = this;
    let reports = 0;
    const run: StepRun = {
      units: this.units,
      loss: this.loss,
      metrics: this.metrics,
      hooks,
      forwardDone: (report: ForwardReport) => {
        if (++reports > 1) throw new Error(`trainhooks: strategy '${this.currentStrategy.name}' reported its forward twice`);
        context.output = report.output;
        context.loss = report.loss;
        context.frozenOutput = report.frozenOutput;
        if (hooks.afterForward.isUsed()) hooks.afterForward.call(context);
      },
    };
    const result = await this.currentStrategy.forwardBackward(context, run);
    if (reports !== 1) {
      tf.dispose([result.loss, ...Object.values(result.gradients), ...result.metricValues]);
      throw new Error(`trainhooks: strategy '${this.currentStrategy.name}' did not report its forward (call run.forwardDone once)`);
    }
    return result;
  }

  /**
   * The gradients that may update a variable this step: not frozen, not skipped, trainable and known.
   * Others (a strategy's or a hook's) are freed here, so they can reach neither hooks nor the update.
   */
  private trainedOnly(context: StepContext, gradients: GradientMap): GradientMap {
    const kept: GradientMap = {};
    for (const [name, gradient] of Object.entries(gradients)) {
      const unit = this.unitOfVariable.get(name);
      const variable = this.variableByName.get(name);
      const trains = unit !== undefined && unit >= context.frozenPrefix && !context.skip.has(name) && variable!.trainable;
      if (trains) kept[name] = gradient;
      else {
        this.telemetry.count('droppedGradients');
        if (!Object.values(kept).includes(gradient)) gradient.dispose();
      }
    }
    return kept;
  }

  private freeStepTensors(context: StepContext, kept: tf.Tensor[]): void {
    // Gradients a hook put in place of the originals are the trainer's to free as well.
    tf.dispose([...new Set([...kept, ...Object.values(context.gradients)])]);
    context.loss = null;
    context.output = null;
    context.frozenOutput = null;
    context.gradients = {};
  }

  private countSkippedWork(context: StepContext, updatedVariables: number): void {
    const { telemetry } = this;
    telemetry.count('steps');
    telemetry.count('samples', context.batchSize);
    telemetry.count('frozenUnitSteps', context.frozenPrefix);
    telemetry.count('skippedUnitForwards', context.forwardStart.unit);
    telemetry.count('variableUpdates', updatedVariables);
    telemetry.count('skippedVariableUpdates', this.variableByName.size - updatedVariables);
  }

  /** Fires teardown and frees the per-variable optimizer state. The model is left to its owner. */
  async dispose(): Promise<void> {
    if (this.setupDone) await this.hooks.teardown.promise();
    await this.currentStrategy.dispose?.();
    this.optimizers.dispose();
  }
}

function pluginName(plugin: TrainerPlugin): string {
  return plugin.name ?? plugin.constructor.name;
}

function checkFrozenPrefix(units: unknown, unitCount: number): asserts units is number {
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 0 || units > unitCount) {
    throw new RangeError(`trainhooks: frozenPrefix must be an integer in [0, ${unitCount}], got ${String(units)}`);
  }
}

function validateDecisions(context: StepContext): void {
  const { frozenPrefix, forwardStart, unitCount } = context;
  checkFrozenPrefix(frozenPrefix, unitCount);
  // A forward that starts past the frozen prefix would leave trainable units unrun.
  if (!Number.isInteger(forwardStart?.unit) || forwardStart.unit < 0 || forwardStart.unit > frozenPrefix) {
    throw new RangeError(
      `trainhooks: the forward may start at unit ${forwardStart?.unit} only if units before it are frozen ` +
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

/** The input shape, and the target shape when the loss pins it (named, not sparse), as tfjs checks them. */
function declaredShapesOf(model: tfl.LayersModel, loss: LossName | LossOrMetricFn | undefined): DeclaredShapes {
  const pinsTarget = typeof loss === 'string' && loss !== 'sparseCategoricalCrossentropy';
  return {
    input: model.inputs[0]!.shape,
    target: pinsTarget ? model.outputs[0]!.shape : null,
  };
}

/** Wraps a model for training with hooks: `createTrainer(model).use(plugin).fit(x, y, …)`. */
export function createTrainer(model: TrainableModel, options?: TrainerOptions): Trainer {
  return new Trainer(model, options);
}

function resolvePretrainedUnits(option: number | 'all' | undefined, model: TrainableModel, units: readonly Unit[]): number {
  if (option === 'all') return units.length;
  if (option !== undefined) {
    if (option > units.length) throw new Error(`trainhooks: options.pretrainedUnits is ${option}, but the model has ${units.length} units`);
    return option;
  }
  return markedPretrainedUnits(model, units) ?? 0;
}
