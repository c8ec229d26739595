import type * as tf from '@tensorflow/tfjs-core';
import { fail } from './argument-checks.js';
import type { LossName, LossOrMetricFn } from './loss.js';
import type { StepStrategy } from './strategy.js';
import type { Unit } from './units.js';

export interface TrainerOptions {
  /** Any tfjs optimizer; defaults to the compiled model's. Its state is kept per variable. */
  optimizer?: tf.Optimizer;
  /** Loss name or per-sample loss function; defaults to the compiled model's. */
  loss?: LossName | LossOrMetricFn;
  /** Metrics to log beside the loss ('accuracy', 'crossentropy', a tf.metrics name or a function). */
  metrics?: ReadonlyArray<string | LossOrMetricFn>;
  /** Replace the automatic unit split (e.g. coarser units for a pipeline). */
  units?: readonly Unit[];
  /** How forward and backward execute; default: LocalStrategy (this process). */
  strategy?: StepStrategy;
  /**
   * A step whose loss is NaN or ±Infinity never updates the weights: 'stop' (default) throws, naming the
   * step; 'skip-step' drops that step's update and trains on. Both emit `nonFiniteLoss`.
   */
  onNonFiniteLoss?: 'stop' | 'skip-step';
  /**
   * Seeds tfjs-layers Dropout per step from this integer, so masks depend only on the step: runs
   * repeat, and a resumed run draws the masks of the run that was never stopped. Default: tfjs' own
   * (global random state). The seed is saved in checkpoints.
   */
  dropoutSeed?: number;
  /**
   * How many leading units start from pretrained weights (a fine-tuning), or 'all'. Plugins read it as
   * `trainer.pretrainedUnits` to judge a fine-tuning as one. Default: every unit below the head for a
   * model made by replaceHead, 0 (training from scratch) for any other.
   */
  pretrainedUnits?: number | 'all';
}

export const DEFAULT_TRAINER_OPTIONS = Object.freeze({
  metrics: [] as ReadonlyArray<string | LossOrMetricFn>,
});

const KNOWN = ['optimizer', 'loss', 'metrics', 'units', 'strategy', 'onNonFiniteLoss', 'dropoutSeed', 'pretrainedUnits'];

/** Shape checks of the options; units, loss and metrics are checked in depth where they are resolved. */
export function checkTrainerOptions(options: unknown): asserts options is TrainerOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('trainer options', options, 'an object');
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.includes(key)) fail(`trainer options.${key}`, key, `one of ${KNOWN.join(', ')}`);
  }
  const optimizer = given.optimizer as Partial<tf.Optimizer> | undefined;
  if (optimizer !== undefined && (optimizer === null || typeof optimizer.applyGradients !== 'function' || typeof optimizer.getConfig !== 'function')) {
    fail('options.optimizer', optimizer, "a tf.Optimizer instance (e.g. tf.train.adam(0.001)); optimizer names are resolved by model.compile");
  }
  if (given.loss !== undefined && typeof given.loss !== 'string' && typeof given.loss !== 'function') {
    fail('options.loss', given.loss, 'a loss name or a (yTrue, yPred) => tf.Tensor function');
  }
  if (given.metrics !== undefined && !Array.isArray(given.metrics)) fail('options.metrics', given.metrics, 'an array of metric names or functions');
  if (given.onNonFiniteLoss !== undefined && given.onNonFiniteLoss !== 'stop' && given.onNonFiniteLoss !== 'skip-step') {
    fail('options.onNonFiniteLoss', given.onNonFiniteLoss, "'stop' or 'skip-step'");
  }
  if (given.dropoutSeed !== undefined && !(Number.isSafeInteger(given.dropoutSeed) && (given.dropoutSeed as number) >= 0)) {
    fail('options.dropoutSeed', given.dropoutSeed, 'a non-negative integer');
  }
  if (given.pretrainedUnits !== undefined && given.pretrainedUnits !== 'all' && !(Number.isSafeInteger(given.pretrainedUnits) && (given.pretrainedUnits as number) >= 0)) {
    fail('options.pretrainedUnits', given.pretrainedUnits, "a non-negative integer or 'all'");
  }
  const strategy = given.strategy as Partial<StepStrategy> | undefined;
  if (strategy !== undefined && (strategy === null || typeof strategy.forwardBackward !== 'function' || typeof strategy.name !== 'string')) {
    fail('options.strategy', strategy, 'a StepStrategy (an object with a name and forwardBackward(context, run))');
  }
}
