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

/** The forward pass as a strategy reports it to the trainer. */
export interface ForwardReport {
  /** The model output of the batch, or null when it never exists in this process (e.g. pipeline stages). */
  readonly output: tf.Tensor | null;
  readonly loss: tf.Scalar;
  /** Output of the frozen prefix when it ran this step (input of unit frozenPrefix), else null. */
  readonly frozenOutput: tf.Tensor | null;
}

/** One step as the trainer hands it to a strategy. */
export interface StepRun extends StepModel {
  /**
   * Call exactly once, as soon as the loss is known (inside the gradient tape for a local strategy):
   * the trainer puts output, loss and frozenOutput into the context and fires `afterForward`, so
   * every strategy keeps the same contract with the plugins.
   */
  forwardDone(report: ForwardReport): void;
}

/**
 * What survives a step's forward and backward; every other tensor has been freed. The trainer owns
 * these tensors and frees them when the step ends.
 */
export interface ForwardBackwardResult {
  readonly loss: tf.Scalar;
  /**
   * Gradients by variable name. The trainer drops (and frees) any gradient of a variable that is
   * frozen, skipped or not trainable this step, so a strategy cannot leak one into the update.
   */
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
 * processes. Plugins see the same hooks and context whatever the strategy; the trainer fires the
 * hooks, filters the gradients and applies the update.
 */
export interface StepStrategy {
  readonly name: string;
  /** Once, before the first step and after the plugins' `setup` hooks (start workers here). */
  setup?(model: StepModel): void | Promise<void>;
  forwardBackward(context: StepContext, run: StepRun): ForwardBackwardResult | Promise<ForwardBackwardResult>;
  /**
   * These variables changed outside forwardBackward: the trainer's update after every step,
   * `importState`, or `trainer.weightsChanged()` after the user set weights. A strategy that holds
   * copies of weights (stages in workers) must resync them before its next step.
   */
  weightsChanged?(variables: readonly tf.Variable[]): void | Promise<void>;
  dispose?(): void | Promise<void>;
}
