import type * as tf from '@tensorflow/tfjs-core';
import type { LossName, LossOrMetricFn } from './loss.js';
import type { StepStrategy } from './strategy.js';
import type { Unit } from './units.js';

export interface TrainerOptions {
  /** Any tfjs optimizer; defaults to the compiled model's. Its state is kept per variable. */
  optimizer?: tf.Optimizer;
  /** Loss name or per-sample loss function; defaults to the compiled model's. */
  loss?: LossName | LossOrMetricFn;
  /** Metrics to log beside the loss ('accuracy' or a tfjs-layers metric name or function). */
  metrics?: ReadonlyArray<string | LossOrMetricFn>;
  /** Replace the automatic unit split (e.g. coarser units for a pipeline). */
  units?: readonly Unit[];
  /** How forward and backward execute; default: LocalStrategy (this process). */
  strategy?: StepStrategy;
}

export const DEFAULT_TRAINER_OPTIONS = Object.freeze({
  metrics: [] as ReadonlyArray<string | LossOrMetricFn>,
});
