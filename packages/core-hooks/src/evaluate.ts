import * as tf from '@tensorflow/tfjs-core';
import type { LossOrMetricFn, NamedMetric } from './loss.js';
import { runUnits, type Unit } from './units.js';

export interface EvaluateOptions {
  batchSize?: number;
}

/**
 * Mean loss and metrics over all samples, every unit in inference mode, as model.evaluate: each
 * batch's mean weighted by its size — so a loss that returns one scalar per batch is averaged right.
 */
export async function evaluateUnits(
  units: readonly Unit[],
  loss: LossOrMetricFn,
  metrics: readonly NamedMetric[],
  x: tf.Tensor,
  y: tf.Tensor,
  batchSize: number,
): Promise<Record<string, number>> {
  const count = x.shape[0]!;
  const sums = new Float64Array(1 + metrics.length);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const values = tf.tidy(() => {
      const xb = tf.slice(x, start, size);
      const yb = tf.slice(y, start, size);
      const output = runUnits(units, 0, units.length, xb, { training: false });
      const means = [loss(yb, output), ...metrics.map((metric) => metric.fn(yb, output))].map((value) => tf.mean(value));
      return tf.mul(tf.stack(means), size);
    });
    const batchSums = await values.data();
    values.dispose();
    batchSums.forEach((value, i) => (sums[i]! += value));
  }
  const result: Record<string, number> = { loss: sums[0]! / count };
  metrics.forEach((metric, i) => (result[metric.name] = sums[i + 1]! / count));
  return result;
}
