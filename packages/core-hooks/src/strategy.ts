import type * as tf from '@tensorflow/tfjs-core';
import type { TrainerHooks } from './hooks.js';
import type { LossOrMetricFn, NamedMetric } from './loss.js';
import type { StepContext } from './step-context.js';
import type { Unit } from './units.js';

/** What a strategy needs to run a step's forward and backward. */
export interface StepModel {
  readonly units: readonly Unit[];
  readonly loss: LossOrMetricFn;
  readonly metrics: readonly NamedMetric[];
  readonly hooks: TrainerHooks;
}

/**
 * What survives a step's forward and backward; every other tensor has been freed. The trainer owns
 * these tensors and frees them when the step ends.
 */
export interface ForwardBackwardResult {
  readonly loss: tf.Scalar;
  /** Gradients by variable name, only for variables that were differentiated. */
  readonly gradients: tf.NamedTensorMap;
  /** Batch means of the metrics, in the order of StepModel.metrics. */
  readonly metricValues: readonly tf.Scalar[];
  /** Output of the frozen prefix when it ran this step (input of unit frozenPrefix), else null. */
  readonly frozenOutput: tf.Tensor | null;
  readonly forwardMs: number;
  readonly backwardMs: number;
}

/**
 * How a step's forward and backward execute: in this process, over pipeline stages, or across
 * processes. Plugins see the same hooks and context whatever the strategy.
 */
export interface StepStrategy {
  readonly name: string;
  forwardBackward(context: StepContext, model: StepModel): ForwardBackwardResult | Promise<ForwardBackwardResult>;
  dispose?(): void | Promise<void>;
}
