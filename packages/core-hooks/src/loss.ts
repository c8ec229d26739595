import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Per-sample loss or metric, as tfjs-layers defines them: (yTrue, yPred) → one value per sample. */
export type LossOrMetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;
export type LossName =
  | 'categoricalCrossentropy'
  | 'sparseCategoricalCrossentropy'
  | 'binaryCrossentropy'
  | 'meanSquaredError'
  | 'meanAbsoluteError';

export interface NamedMetric {
  readonly name: string;
  readonly fn: LossOrMetricFn;
}

function sparseCategoricalCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const classes = yPred.shape[yPred.shape.length - 1]!;
    const oneHot = tf.oneHot(tf.cast(tf.reshape(yTrue, [-1]), 'int32'), classes);
    return tfl.metrics.categoricalCrossentropy(oneHot, yPred);
  });
}

const LOSSES: Record<LossName, LossOrMetricFn> = {
  categoricalCrossentropy: (t, p) => tfl.metrics.categoricalCrossentropy(t, p),
  sparseCategoricalCrossentropy,
  binaryCrossentropy: (t, p) => tfl.metrics.binaryCrossentropy(t, p),
  meanSquaredError: (t, p) => tfl.metrics.meanSquaredError(t, p),
  meanAbsoluteError: (t, p) => tfl.metrics.meanAbsoluteError(t, p),
};

export function resolveLoss(loss: LossName | LossOrMetricFn): LossOrMetricFn {
  if (typeof loss === 'function') return loss;
  const fn = LOSSES[loss];
  if (!fn) throw new Error(`trainhooks: unknown loss '${loss}'; known: ${Object.keys(LOSSES).join(', ')}`);
  return fn;
}

/** 'accuracy'/'acc' means the accuracy that fits the loss, as in Keras. Logged as 'acc', like tfjs. */
export function resolveMetrics(
  metrics: ReadonlyArray<string | LossOrMetricFn>,
  loss: LossName | LossOrMetricFn,
): NamedMetric[] {
  return metrics.map((metric, index) => {
    if (typeof metric === 'function') return { name: metric.name || `metric_${index}`, fn: metric };
    if (metric === 'accuracy' || metric === 'acc') {
      const fn: LossOrMetricFn =
        loss === 'binaryCrossentropy'
          ? tfl.metrics.binaryAccuracy
          : loss === 'sparseCategoricalCrossentropy'
            ? sparseAccuracy
            : tfl.metrics.categoricalAccuracy;
      return { name: 'acc', fn };
    }
    const named = (tfl.metrics as unknown as Record<string, LossOrMetricFn>)[metric];
    if (typeof named !== 'function') throw new Error(`trainhooks: unknown metric '${metric}'`);
    return { name: metric, fn: named };
  });
}

function sparseAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.cast(tf.equal(tf.cast(tf.reshape(yTrue, [-1]), 'int32'), tf.argMax(yPred, -1)), 'float32'),
  );
}

/** Loss and metrics a compiled LayersModel lends: exactly the functions its own fit uses. */
export function lossAndMetricsOfCompiledModel(
  model: tfl.LayersModel,
): { loss: LossOrMetricFn; metrics: NamedMetric[] } | null {
  type Compiled = {
    lossFunctions?: LossOrMetricFn[];
    metricsTensors?: Array<[LossOrMetricFn, number]>;
    metricsNames?: string[];
    model?: Compiled;
  };
  // A Sequential compiles the LayersModel it wraps and does not copy lossFunctions over.
  const outer = model as unknown as Compiled;
  const compiled = outer.lossFunctions ? outer : (outer.model ?? outer);
  if (!compiled.lossFunctions || compiled.lossFunctions.length === 0) return null;
  if (compiled.lossFunctions.length > 1) {
    throw new Error('trainhooks: models with several outputs/losses are not supported');
  }
  const names = compiled.metricsNames?.slice(1) ?? [];
  const metrics = (compiled.metricsTensors ?? []).map(([fn], i) => ({ name: names[i] ?? `metric_${i}`, fn }));
  return { loss: compiled.lossFunctions[0]!, metrics };
}

