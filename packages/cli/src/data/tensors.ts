// Whole-set tensors: for evaluation and for models.fit on small sets.
import * as tf from '@tensorflow/tfjs-core';
import { FASHION_MNIST_NUM_CLASSES, FASHION_MNIST_PIXELS, type FashionMnistSet } from './fashion-mnist.js';

export interface TensorOptions {
  /** n×784 for dense models (see MODEL_INPUT_LAYOUT); otherwise n×28×28×1 for convolutional ones. */
  flatten?: boolean;
}

export interface LabeledTensors {
  xs: tf.Tensor;
  /** One-hot float32, n×10. */
  ys: tf.Tensor2D;
  ids: Int32Array;
}

/** The caller owns xs and ys and must dispose them. */
export function toTensors(set: FashionMnistSet, { flatten = false }: TensorOptions = {}): LabeledTensors {
  return {
    xs: tf.tensor(set.images, imageShape(set.count, set, flatten), 'float32'),
    ys: oneHotLabels(set.labels),
    ids: set.ids,
  };
}

export function imageShape(count: number, set: Pick<FashionMnistSet, 'height' | 'width'>, flatten: boolean): number[] {
  return flatten ? [count, FASHION_MNIST_PIXELS] : [count, set.height, set.width, 1];
}

/** Built on the CPU side: cheaper than tf.oneHot + cast for every batch. */
export function oneHotLabels(labels: ArrayLike<number>): tf.Tensor2D {
  const oneHot = new Float32Array(labels.length * FASHION_MNIST_NUM_CLASSES);
  for (let i = 0; i < labels.length; i++) oneHot[i * FASHION_MNIST_NUM_CLASSES + labels[i]] = 1;
  return tf.tensor2d(oneHot, [labels.length, FASHION_MNIST_NUM_CLASSES], 'float32');
}
