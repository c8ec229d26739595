import type * as tf from '@tensorflow/tfjs-core';

/** Gradients of one step, keyed by variable name. */
export type GradientMap = Record<string, tf.Tensor>;

/** One batch as the trainer sees it. The caller (or the fit loop) owns its tensors. */
export interface Batch {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
  /**
   * Stable sample ids (e.g. the row in the dataset), the key for per-sample caches. Leave it out when
   * the data has none: nothing is made up, and a per-sample cache then refuses to serve the batch.
   */
  readonly ids?: Int32Array | null;
  /** Ids of the batch that comes next, when known: lets a cache prefetch. */
  readonly nextIds?: Int32Array | null;
}

/** Where the forward pass begins: unit `unit` receives `input` (a cache enters here). */
export interface ForwardStart {
  readonly unit: number;
  readonly input: tf.Tensor;
}

/**
 * Everything a step's hooks can see and change. One object per step; plugins cooperate only
 * through it. Fields marked "decide" are read by the trainer after the hooks that precede them.
 */
export interface StepContext {
  readonly step: number;
  readonly epoch: number;
  readonly batch: Batch;
  /** Samples in this batch. */
  readonly batchSize: number;
  /** The batch's sample ids, or null when the data carries none (never made up). */
  readonly ids: Int32Array | null;
  readonly nextIds: Int32Array | null;
  readonly unitCount: number;
  /** decide (up to beforeForward): units [0, frozenPrefix) run with training=false, outside the tape. */
  frozenPrefix: number;
  /** decide (up to beforeForward): variable names that get no gradient and no update this step. */
  readonly skip: Set<string>;
  /** decide (up to beforeForward): where the forward starts; default unit 0 with the batch's x. */
  forwardStart: ForwardStart;
  /** set after the frozen prefix ran: its output (input of unit frozenPrefix), kept until step end. */
  frozenOutput: tf.Tensor | null;
  /** set in afterForward: model output and loss of this step. */
  output: tf.Tensor | null;
  loss: tf.Scalar | null;
  /** set after backward; beforeAllReduce may replace it (waterfall). */
  gradients: GradientMap;
  /** metric values of this step (loss included) once the step has finished. */
  readonly logs: Record<string, number>;
  /** A scratch area for plugins (namespaced by plugin name). */
  readonly scratch: Record<string, unknown>;
}

export function createStepContext(fields: {
  step: number;
  epoch: number;
  batch: Batch;
  unitCount: number;
  frozenPrefix: number;
}): StepContext {
  const batchSize = fields.batch.x.shape[0]!;
  const ids = fields.batch.ids ?? null;
  if (ids !== null && (!(ids instanceof Int32Array) || ids.length !== batchSize)) {
    throw new Error(`trainhooks: batch.ids must be an Int32Array with one id per sample (${batchSize}), got ${ids.length ?? String(ids)}`);
  }
  return {
    step: fields.step,
    epoch: fields.epoch,
    batch: fields.batch,
    batchSize,
    ids,
    nextIds: fields.batch.nextIds ?? null,
    unitCount: fields.unitCount,
    frozenPrefix: fields.frozenPrefix,
    skip: new Set(),
    forwardStart: { unit: 0, input: fields.batch.x },
    frozenOutput: null,
    output: null,
    loss: null,
    gradients: {},
    logs: {},
    scratch: {},
  };
}
