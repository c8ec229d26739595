import * as tf from '@tensorflow/tfjs-core';

/**
 * Similarity-preserving loss (Tung & Mori; Egeria's plasticity signal) between two activations of the
 * same b inputs: each is flattened to b × features, G = A·Aᵀ with rows L2-normalised, and the loss is
 * ‖G_a − G_b‖²_F / b². It compares how the unit relates the samples to each other, so it is blind to
 * a rescaling of the features and defined for any activation shape.
 */
export function spLoss(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  if (a.shape[0] !== b.shape[0]) throw new Error(`spLoss: ${a.shape[0]} samples against ${b.shape[0]}`);
  return tf.tidy(() => {
    const batch = a.shape[0]!;
    const difference = tf.sub(similarity(a), similarity(b));
    return tf.div(tf.sum(tf.square(difference)), batch * batch) as tf.Scalar;
  });
}

/** Row-L2-normalised Gram matrix of the flattened activations (b × b). */
export function similarity(activation: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = tf.reshape(activation, [activation.shape[0]!, -1]) as tf.Tensor2D;
    const gram = tf.matMul(rows, rows, false, true);
    // The epsilon keeps an all-zero row (a dead ReLU unit for that sample) at zero instead of NaN.
    const norms = tf.add(tf.sqrt(tf.sum(tf.square(gram), 1, true)), 1e-12);
    return tf.div(gram, norms) as tf.Tensor2D;
  });
}
