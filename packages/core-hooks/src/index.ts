// @trainhooks/core-hooks: the trainer, its hook bus and the seams plugins meet in. Everything exported
// here is the stable API; @trainhooks/core-hooks/internal holds the plumbing siblings and tests share.
export { createTrainer, isStatefulPlugin, Trainer, type PluginDescription, type StatefulPlugin, type TrainerPlugin, type TrainableModel, type TrainerState } from './trainer.js';
export { restoreTrainer } from './restore-trainer.js';
export type { FitPosition } from './fit-position.js';
export { DEFAULT_TRAINER_OPTIONS, type TrainerOptions } from './options.js';
export { HookStage, type TrainerHooks, type EpochInfo, type BatchInfo, type LearningRateChange, type CheckpointSave } from './hooks.js';
export { definePluginHooks } from './plugin-hooks.js';
export { checkOptionNames, optionError } from './plugin-options.js';
export { optionChecks, type Interval, type OptionChecks } from './option-checks.js';
export type { TrainerEvents, TrainerEventMap, StepEvent } from './events.js';
export type { Batch, ForwardStart, GradientMap, StepContext } from './step-context.js';
export { isUnitModel, runUnits, unitWeights, type Unit, type UnitApplyOptions, type UnitModel, type UnitWeight } from './units.js';
export { unitsFromLayersModel } from './graph-units.js';
export { replaceHead, type ReplaceHeadOptions } from './replace-head.js';
export type { LossName, LossOrMetricFn, MetricContext, NamedMetric } from './loss.js';
export { PHASES, type LatencySummary, type Phase, type TrainerStats } from './telemetry.js';
export type { OptimizerState } from './variable-optimizers.js';
export type { FitOptions } from './fit-loop.js';
export type { FitDatasetOptions, DatasetLike, DatasetElement } from './fit-dataset-loop.js';
export type { TrainHistory } from './training-session.js';
export type { FitCallbacks, CallbackParams } from './callbacks.js';
export { LocalStrategy } from './local-strategy.js';
export type { StepStrategy, StepModel, StepRun, ForwardReport, ForwardBackwardResult } from './strategy.js';
