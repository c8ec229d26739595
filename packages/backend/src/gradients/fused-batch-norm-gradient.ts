// FusedBatchNorm's gradient in five passes over the activation instead of thirteen.
//
// tfjs' gradient writes a full-size tensor for nearly every factor: dy·scale, x − mean, 1/√(var + ε)
// tiled to x's shape, then one or two full-size products per input before each per-channel sum — thirteen
// passes over an activation per BatchNormalization layer, the memory-bound bulk of a resnet step. The
// per-channel factors can be multiplied first and the two sums each input needs taken once:
//
//   r = 1/√(var + ε),  Σdy and Σdy·(x − mean) per channel
//   dx = dy · (r·scale)          dmean = −r·scale·Σdy            doffset = Σdy
//   dscale = r·Σdy·(x − mean)    dvariance = −½·r³·scale·Σdy·(x − mean)
//
// Full-size work: x − mean, its product with dy, two sums and dx. The products are regrouped, so results
// differ from tfjs' by float rounding only (test/backend/gradients.test.ts). Statistics of x's own shape
// (not per channel) keep tfjs' formula. x is always 4-D here: tf.batchNorm reshapes it.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, FusedBatchNorm } from '@tensorflow/tfjs-core';

type BatchNormAttrs = { varianceEpsilon: number };
type Saved = [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];

/** tfjs' own gradient, for statistics shaped like x: every product is elementwise there anyway. */
function elementwiseStatistics(dy: tf.Tensor, [x, mean, variance, scale]: Saved, r: tf.Tensor): Record<string, () => tf.Tensor> {
  const scaleValue = scale ?? tf.scalar(1);
  const xMinusMean = tf.sub(x, mean);
  const dyTimesScale = tf.mul(dy, scaleValue);
  const minusHalfRCube = tf.mul(tf.mul(tf.mul(r, r), r), tf.scalar(-0.5));
  return {
    x: () => tf.reshape(tf.mul(tf.mul(dy, r), scaleValue), x.shape),
    mean: () => tf.reshape(tf.mul(tf.mul(r, tf.scalar(-1)), dyTimesScale), mean.shape),
    variance: () => tf.reshape(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScale), mean.shape),
    scale: () => tf.reshape(tf.mul(dy, tf.mul(xMinusMean, r)), mean.shape),
    offset: () => tf.reshape(dy, mean.shape),
  };
}

export const fusedBatchNormGradient: tf.GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as BatchNormAttrs;
    const [x, mean, variance, scale] = saved as Saved;
    const dyT = dy as tf.Tensor;
    const r = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    if (mean.rank !== 1) return elementwiseStatistics(dyT, saved as Saved, r);
    const axes = backend_util.getReductionAxes(mean.shape, x.shape);
    const rTimesScale = scale ? tf.mul(r, scale) : r;
    // The two per-channel sums every input's gradient is made of, each taken once.
    const sumDy = tf.reshape(tf.sum(dyT, axes), mean.shape);
    const sumDyXMinusMean = tf.reshape(tf.sum(tf.mul(dyT, tf.sub(x, mean)), axes), mean.shape);
    return {
      x: () => tf.reshape(tf.mul(dyT, rTimesScale), x.shape),
      mean: () => tf.mul(tf.neg(rTimesScale), sumDy),
      variance: () => tf.mul(tf.mul(tf.mul(tf.mul(r, r), rTimesScale), tf.scalar(-0.5)), sumDyXMinusMean),
      scale: () => tf.mul(r, sumDyXMinusMean),
      offset: () => tf.clone(sumDy),
    };
  },
};
