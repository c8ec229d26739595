import * as tf from '@tensorflow/tfjs-core';

// How far apart two predictions of one model are, and how much of a movement keeps one direction: the
// measures behind the output-effect tests of plugin-freeze and plugin-grad-prune ("does this unit's
// recent learning still matter to what the model predicts?"), shared here so neither imports the other.

/**
 * What a model's output rows are, read from the current predictions on the probe:
 * - 'distribution': several columns in [0, 1] summing to 1 (softmax);
 * - 'bernoulli': values in [0, 1] that are not one distribution per row (a sigmoid binary classifier's
 *   single column, multi-label outputs): each column its own two-class distribution;
 * - 'logits': several unbounded columns, through softmax;
 * - 'unbounded': one unbounded column (regression): no predicted distribution, so no output effect.
 */
export type OutputKind = 'distribution' | 'bernoulli' | 'logits' | 'unbounded';

export function outputKind(output: tf.Tensor): OutputKind {
  return tf.tidy(() => {
    const rows = tf.reshape(output, [output.shape[0]!, -1]) as tf.Tensor2D;
    const columns = rows.shape[1];
    const min = tf.min(rows).dataSync()[0]!;
    const max = tf.max(rows).dataSync()[0]!;
    if (min >= 0 && max <= 1 + 1e-5) {
      const sums = tf.sum(rows, 1).dataSync();
      return columns > 1 && sums.every((sum) => Math.abs(sum - 1) < 1e-3) ? 'distribution' : 'bernoulli';
    }
    return columns > 1 ? 'logits' : 'unbounded';
  });
}

/**
 * The distance between two outputs of the given kind, as probability mass moved per probe sample:
 * total variation for distributions (logits after softmax), the mean over columns of |p − q| (each
 * column's two-class total variation) for 'bernoulli'; NaN for 'unbounded'.
 */
export function predictionDistance(a: tf.Tensor, b: tf.Tensor, kind: OutputKind): number {
  if (kind === 'unbounded') return Number.NaN;
  return tf.tidy(() => {
    const rows = (t: tf.Tensor) => tf.reshape(t, [t.shape[0]!, -1]) as tf.Tensor2D;
    if (kind === 'bernoulli') return tf.mean(tf.abs(tf.sub(rows(a), rows(b)))).dataSync()[0]!;
    const p = kind === 'logits' ? (tf.softmax(rows(a)) as tf.Tensor2D) : rows(a);
    const q = kind === 'logits' ? (tf.softmax(rows(b)) as tf.Tensor2D) : rows(b);
    return totalVariation(p, q);
  });
}

/** Rows of class probabilities: softmax outputs as they are, anything else (logits) through softmax. */
export function toProbabilities(output: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = tf.reshape(output, [output.shape[0]!, -1]) as tf.Tensor2D;
    const min = tf.min(rows).dataSync()[0]!;
    const max = tf.max(rows).dataSync()[0]!;
    const sums = tf.sum(rows, 1).dataSync();
    const isDistribution = min >= 0 && max <= 1 + 1e-5 && sums.every((sum) => Math.abs(sum - 1) < 1e-3);
    return isDistribution ? rows : (tf.softmax(rows) as tf.Tensor2D);
  });
}

/** Mean over rows of ½·Σ|p − q|: 0 for the same predictions, 1 for disjoint ones. */
export function totalVariation(p: tf.Tensor2D, q: tf.Tensor2D): number {
  return tf.tidy(() => tf.mean(tf.mul(tf.sum(tf.abs(tf.sub(p, q)), 1), 0.5)).dataSync()[0]!);
}

/**
 * How much of a unit's effect may be jitter: its whole effect over one lag counts at 1/JITTER_ALLOWANCE
 * in the directed effect, so a unit whose jitter alone moves more than twice the threshold still
 * matters — frozen there, it would stop at a random point of a wide swing.
 */
const JITTER_ALLOWANCE = 2;

/**
 * The part of an output effect that comes from movement in one direction. A unit's movement over k
 * lags is a drift growing like k plus jitter growing like √k (a random walk; less if it stays around a
 * point), so its effects over one lag and over two are e₁² ≈ d² + σ² and e₂² ≈ 4d² + 2σ², and
 *
 *   d = √(max(0, (e₂² − 2·e₁²) / 2))
 *
 * is the effect of one lag's directed movement: e₁ for a pure drift, 0 for a random walk or a unit
 * that jitters around where it is — freezing such a unit loses the jitter, not learning (Adam keeps
 * settled weights moving by about its learning rate a step, in no particular direction). The value
 * returned is max(d, e₁ / JITTER_ALLOWANCE).
 */
export function directedEffect(overLag: number, overTwoLags: number): number {
  if (!Number.isFinite(overLag) || !Number.isFinite(overTwoLags)) return Number.NaN;
  const directed = Math.sqrt(Math.max(0, (overTwoLags * overTwoLags - 2 * overLag * overLag) / 2));
  return Math.max(directed, overLag / JITTER_ALLOWANCE);
}
