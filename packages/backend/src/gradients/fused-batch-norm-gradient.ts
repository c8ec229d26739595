// FusedBatchNorm's gradient without the tile.
//
// tfjs' gradient for x tiles 1/√(variance + ε) from [1, 1, 1, C] to x's whole shape (a full-size tensor
// written, then read by a full-size multiply) before multiplying dy by it. Multiplying dy by the [C]
// vector with broadcasting computes the same products in the same order: same bits, two full-size passes
// fewer. Everything else is tfjs' gradient as it is (x is always 4-D here: tf.batchNorm reshapes it).
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, FusedBatchNorm } from '@tensorflow/tfjs-core';

type BatchNormAttrs = { varianceEpsilon: number };

export const fusedBatchNormGradient: tf.GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as BatchNormAttrs;
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const dyT = dy as tf.Tensor;
    const scaleValue = scale ?? tf.scalar(1);
    const perChannel = mean.rank === 1;
    const reduce = (t: tf.Tensor) => tf.reshape(perChannel ? tf.sum(t, backend_util.getReductionAxes(mean.shape, x.shape)) : t, mean.shape);
    const xMinusMean = tf.sub(x, mean);
    const dyTimesScale = tf.mul(dyT, scaleValue);
    const oneOverSqrtVariance = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const minusHalfRCube = tf.mul(tf.mul(tf.mul(oneOverSqrtVariance, oneOverSqrtVariance), oneOverSqrtVariance), tf.scalar(-0.5));
    return {
      x: () => tf.reshape(tf.mul(tf.mul(dyT, oneOverSqrtVariance), scaleValue), x.shape),
      mean: () => reduce(tf.mul(tf.mul(oneOverSqrtVariance, tf.scalar(-1)), dyTimesScale)),
      variance: () => reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScale)),
      scale: () => reduce(tf.mul(dyT, tf.mul(xMinusMean, oneOverSqrtVariance))),
      offset: () => reduce(dyT),
    };
  },
};
