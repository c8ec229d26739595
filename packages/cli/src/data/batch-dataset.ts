// Mini-batches with the shape of a tfjs-data Dataset, without depending on @tensorflow/tfjs-data.
// model.fitDataset accepts it; so does `for await (const batch of dataset)`.
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, shuffleInPlace } from '@trainhooks/core-hooks/internal';
import { FASHION_MNIST_PIXELS, type FashionMnistSet } from './fashion-mnist.js';
import { imageShape, oneHotLabels } from './tensors.js';

export interface BatchDatasetOptions {
  batchSize: number;
  /** Draw a new order for every epoch. */
  shuffle?: boolean;
  /** Makes the sequence of epoch orders reproducible; without it shuffles are random. */
  seed?: number;
  /** n×784 instead of n×28×28×1. */
  flatten?: boolean;
  /** Skip the last, smaller batch (tfjs-data keeps it, so do we by default). */
  dropRemainder?: boolean;
}

export interface Batch {
  xs: tf.Tensor;
  /** One-hot float32, batch×10. */
  ys: tf.Tensor2D;
  /** Sample ids (index in the source file) of the rows, in row order. */
  ids: Int32Array;
}

export type BatchResult = { value: Batch; done: false } | { value: null; done: true };

export interface BatchIterator {
  /** Each batch's xs and ys are new tensors owned by the caller (fitDataset disposes them itself). */
  next(): Promise<BatchResult>;
}

export interface BatchDataset {
  /** Batches per epoch, like tfjs-data's Dataset.size. */
  readonly size: number;
  readonly batchSize: number;
  /** Samples in the set. */
  readonly count: number;
  /** Starts a new epoch: a fresh order when shuffling. */
  iterator(): Promise<BatchIterator>;
  [Symbol.asyncIterator](): AsyncIterator<Batch>;
}

export function toBatchDataset(set: FashionMnistSet, options: BatchDatasetOptions): BatchDataset {
  const { batchSize, shuffle = false, flatten = false, dropRemainder = false } = options;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`toBatchDataset: batchSize must be a positive integer, got ${batchSize}`);
  // One generator for the dataset's lifetime: epoch k's order depends only on the seed and k.
  const random = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const size = dropRemainder ? Math.floor(set.count / batchSize) : Math.ceil(set.count / batchSize);
  const samplesPerEpoch = Math.min(set.count, size * batchSize);

  function startEpoch(): BatchIterator {
    const order = shuffle ? Int32Array.from({ length: set.count }, (_, i) => i) : null;
    if (order) shuffleInPlace(order, random);
    let position = 0;
    return {
      async next() {
        if (position >= samplesPerEpoch) return { value: null, done: true };
        const rows = Math.min(batchSize, samplesPerEpoch - position);
        const value = gatherBatch(set, order, position, rows, flatten);
        position += rows;
        return { value, done: false };
      },
    };
  }

  return {
    size,
    batchSize,
    count: set.count,
    async iterator() {
      return startEpoch();
    },
    [Symbol.asyncIterator]() {
      const epoch = startEpoch();
      return {
        async next(): Promise<IteratorResult<Batch, undefined>> {
          const result = await epoch.next();
          return result.done ? { value: undefined, done: true } : result;
        },
      };
    },
  };
}

/** Copies the rows on the CPU side, so no full-set tensor has to stay alive between batches. */
function gatherBatch(set: FashionMnistSet, order: Int32Array | null, start: number, rows: number, flatten: boolean): Batch {
  const pixels = new Float32Array(rows * FASHION_MNIST_PIXELS);
  const labels = new Uint8Array(rows);
  const ids = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const sample = order ? order[start + row] : start + row;
    pixels.set(set.images.subarray(sample * FASHION_MNIST_PIXELS, (sample + 1) * FASHION_MNIST_PIXELS), row * FASHION_MNIST_PIXELS);
    labels[row] = set.labels[sample];
    ids[row] = set.ids[sample];
  }
  return {
    xs: tf.tensor(pixels, imageShape(rows, set, flatten), 'float32'),
    ys: oneHotLabels(labels),
    ids,
  };
}
