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
  const fn = typeof loss === 'string' && Object.hasOwn(LOSSES, loss) ? LOSSES[loss] : undefined;
  if (!fn) throw new Error(`trainhooks: unknown loss ${JSON.stringify(loss)}; use a function or one of: ${Object.keys(LOSSES).join(', ')}`);
  return fn;
}

/** What decides the meaning of 'accuracy' and 'crossentropy', as in tfjs-layers' compile. */
export interface MetricContext {
  /** The loss as given (a name resolves more than a function does). */
  readonly loss: LossName | LossOrMetricFn;
  /** Size of the model output's last dimension, when known: 1 means a binary problem. */
  readonly outputUnits?: number;
}

/**
 * 'accuracy'/'acc' and 'crossentropy'/'ce' mean the variant that fits the loss and output, exactly as
 * tfjs-layers' compile decides: binary when the output has one unit or the loss is binary
 * cross-entropy, sparse when the loss is sparse categorical cross-entropy, else categorical.
 * Logged as 'acc' and 'ce', like tfjs.
 */
export function resolveMetrics(metrics: ReadonlyArray<string | LossOrMetricFn>, context: MetricContext): NamedMetric[] {
  if (!Array.isArray(metrics)) throw new Error(`trainhooks: metrics must be an array of names or functions, got ${String(metrics)}`);
  const kind =
    context.outputUnits === 1 || context.loss === 'binaryCrossentropy'
      ? 'binary'
      : context.loss === 'sparseCategoricalCrossentropy'
        ? 'sparse'
        : 'categorical';
  return metrics.map((metric, index) => {
    if (typeof metric === 'function') return { name: metric.name || `metric_${index}`, fn: metric };
    if (metric === 'accuracy' || metric === 'acc') return { name: 'acc', fn: ACCURACY[kind] };
    if (metric === 'crossentropy' || metric === 'ce') return { name: 'ce', fn: CROSSENTROPY[kind] };
    const named = typeof metric === 'string' ? (tfl.metrics as unknown as Record<string, LossOrMetricFn>)[metric] : undefined;
    if (typeof named !== 'function') {
      throw new Error(`trainhooks: unknown metric ${JSON.stringify(metric)}; use 'accuracy', 'crossentropy', a tf.metrics name or a function`);
    }
    return { name: metric, fn: named };
  });
}

const ACCURACY: Record<'binary' | 'sparse' | 'categorical', LossOrMetricFn> = {
  binary: (t, p) => tfl.metrics.binaryAccuracy(t, p),
  sparse: (t, p) => sparseAccuracy(t, p),
  categorical: (t, p) => tfl.metrics.categoricalAccuracy(t, p),
};

const CROSSENTROPY: Record<'binary' | 'sparse' | 'categorical', LossOrMetricFn> = {
  binary: (t, p) => tfl.metrics.binaryCrossentropy(t, p),
  sparse: (t, p) => sparseCategoricalCrossentropy(t, p),
  categorical: (t, p) => tfl.metrics.categoricalCrossentropy(t, p),
};

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

