// The raw-variable model of tfjs-examples/mnist-core: tf.variable weights and a hand-written forward pass,
// cut by hand into the units the trainer freezes, caches and partitions.
import * as tf from '@tensorflow/tfjs-core';

/** A block of a model the trainer can treat on its own: its variables and how to run it. */
export interface HandDeclaredUnit {
  name: string;
  variables: tf.Variable[];
  apply(x: tf.Tensor, options: { training: boolean }): tf.Tensor;
}

export interface MnistCoreModel {
  /** conv1 → conv2 → dense; the last outputs softmax probabilities, batch×10. */
  units: HandDeclaredUnit[];
  /** Runs all units in order. */
  apply(x: tf.Tensor, options: { training: boolean }): tf.Tensor;
  /** Disposes the variables, freeing their names. */
  dispose(): void;
}

const IMAGE_SIZE = 28;
const DEFAULT_NAME_PREFIX = 'mnist_core';

/**
 * @param seed seeds each variable's initialiser (seed, seed + 1, …); random without it.
 * @param namePrefix prefixes the variable names (`<prefix>/conv1/kernel`), which tfjs requires to be unique;
 *   without it the first free of mnist_core, mnist_core_2, … is taken, so several models can coexist.
 */
export function createMnistCoreModel(seed?: number, namePrefix?: string): MnistCoreModel {
  const prefix = namePrefix ?? freePrefix(DEFAULT_NAME_PREFIX);
  let seedIndex = 0;
  const nextSeed = () => (seed === undefined ? undefined : seed + seedIndex++);
  const randomNormal = (shape: number[], stddev: number) => tf.randomNormal(shape, 0, stddev, 'float32', nextSeed());
  const variable = (name: string, init: tf.Tensor) => {
    const v = tf.variable(init, true, `${prefix}/${name}`);
    init.dispose();
    return v;
  };

  // Same shapes and initial scales as tfjs-examples/mnist-core/model.js.
  const conv1Kernel = variable('conv1/kernel', randomNormal([5, 5, 1, 8], 0.1));
  const conv2Kernel = variable('conv2/kernel', randomNormal([5, 5, 8, 16], 0.1));
  const flatSize = 7 * 7 * 16;
  const denseKernel = variable('dense/kernel', randomNormal([flatSize, 10], 1 / Math.sqrt(flatSize)));
  const denseBias = variable('dense/bias', tf.zeros([10]));

  // 'same' 5×5 convolution, relu, 2×2 max-pool with stride 2: halves the resolution.
  const convBlock = (x: tf.Tensor, kernel: tf.Variable) =>
    tf.tidy(() => tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same')), [2, 2], 2, 0));

  const units: HandDeclaredUnit[] = [
    {
      name: 'conv1',
      variables: [conv1Kernel],
      // Accepts flat n×784 as well as n×28×28×1, like mnist-core's as4D.
      apply: (x) => tf.tidy(() => convBlock(tf.reshape(x, [-1, IMAGE_SIZE, IMAGE_SIZE, 1]), conv1Kernel)),
    },
    { name: 'conv2', variables: [conv2Kernel], apply: (x) => convBlock(x, conv2Kernel) },
    {
      name: 'dense',
      variables: [denseKernel, denseBias],
      apply: (x) => tf.tidy(() => tf.softmax(tf.add(tf.matMul(tf.reshape(x, [-1, flatSize]), denseKernel), denseBias))),
    },
  ];

  return {
    units,
    apply(x, options) {
      return tf.tidy(() => units.reduce((activation, unit) => unit.apply(activation, options), x));
    },
    dispose() {
      for (const unit of units) for (const v of unit.variables) v.dispose();
    },
  };
}

function freePrefix(base: string): string {
  const taken = (prefix: string) => Object.keys(tf.engine().registeredVariables).some((name) => name.startsWith(`${prefix}/`));
  if (!taken(base)) return base;
  for (let n = 2; ; n++) if (!taken(`${base}_${n}`)) return `${base}_${n}`;
}
