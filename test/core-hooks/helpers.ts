import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { CPU_KERNELS, installKernels, setupBackend } from '@trainhooks/backend/internal';
import { decodeState, encodeState } from '@trainhooks/core-hooks/internal';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** The cpu backend with @trainhooks/backend's kernels (stock cpu's conv filter gradient is ~50× slower). */
export async function useFastCpu(): Promise<void> {
  await useCpu();
  installKernels(CPU_KERNELS);
}

/**
 * wasm with @trainhooks/backend's kernels on one thread (deterministic): the same kernels by name as
 * useFastCpu, and conv models train ~10–35× quicker — for tests that train resnet or cnn steps.
 */
export async function useFastWasm(): Promise<void> {
  await setupBackend('wasm', { threads: 1, log: () => {} });
}

/** A seeded random classification problem. */
export function toyData(samples: number, features: number, classes: number, seed = 1) {
  return tf.tidy(() => {
    const x = tf.randomNormal([samples, features], 0, 1, 'float32', seed);
    const labels = tf.argMax(tf.matMul(x, tf.randomNormal([features, classes], 0, 1, 'float32', seed + 1)), 1);
    return { x, y: tf.cast(tf.oneHot(labels, classes), 'float32') };
  });
}

/** A small MLP whose weights depend only on `seed`. */
export function denseModel(seed: number, sizes: number[] = [8, 16, 16, 3]): tfl.Sequential {
  const model = tfl.sequential();
  for (let i = 1; i < sizes.length; i++) {
    model.add(
      tfl.layers.dense({
        units: sizes[i]!,
        activation: i === sizes.length - 1 ? 'softmax' : 'relu',
        inputShape: i === 1 ? [sizes[0]!] : undefined,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }),
        biasInitializer: tfl.initializers.randomNormal({ seed: seed + 100 + i, stddev: 0.1 }),
      }),
    );
  }
  return model;
}

export function copyWeights(from: tfl.LayersModel, to: tfl.LayersModel): void {
  to.setWeights(from.getWeights());
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

export function snapshot(variables: readonly tf.Variable[]): Map<string, Float32Array> {
  return new Map(variables.map((v) => [v.name, v.dataSync().slice() as Float32Array]));
}

export function bitIdentical(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** A state as a checkpoint carries it: encoded, its JSON through text, decoded again. */
export function throughCheckpointCodec<T>(state: T): T {
  const encoded = encodeState(state);
  return decodeState({ json: JSON.parse(JSON.stringify(encoded.json)), sidecars: encoded.sidecars }) as T;
}
