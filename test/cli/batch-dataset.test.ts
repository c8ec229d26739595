import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { loadFashionMnist, toBatchDataset, toTensors, type BatchDataset } from '@trainhooks/cli';

const set = loadFashionMnist({ split: 'test', limit: 100 });

async function epochIds(dataset: BatchDataset): Promise<number[][]> {
  const batches: number[][] = [];
  const iterator = await dataset.iterator();
  for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
    batches.push(Array.from(result.value.ids));
    tf.dispose([result.value.xs, result.value.ys]);
  }
  return batches;
}

describe('toTensors', () => {
  it('gives n×28×28×1 images, or n×784 when flattened, and one-hot labels', () => {
    const image = toTensors(set);
    const flat = toTensors(set, { flatten: true });
    expect(image.xs.shape).toEqual([100, 28, 28, 1]);
    expect(flat.xs.shape).toEqual([100, 784]);
    expect(image.ys.shape).toEqual([100, 10]);
    expect(image.ys.dtype).toBe('float32');
    expect(Array.from(tf.tidy(() => tf.argMax(image.ys, 1)).dataSync())).toEqual(Array.from(set.labels));
    expect(image.ids).toBe(set.ids);
    tf.dispose([image.xs, image.ys, flat.xs, flat.ys]);
  });
});

describe('toBatchDataset', () => {
  it('walks the set in order, keeping the short last batch, and restarts on every iterator()', async () => {
    const dataset = toBatchDataset(set, { batchSize: 32 });
    expect(dataset.size).toBe(4);
    const first = await epochIds(dataset);
    expect(first.map((ids) => ids.length)).toEqual([32, 32, 32, 4]);
    expect(first.flat()).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(await epochIds(dataset)).toEqual(first);
  });

  it('drops the remainder when asked', async () => {
    const dataset = toBatchDataset(set, { batchSize: 32, dropRemainder: true });
    expect(dataset.size).toBe(3);
    expect((await epochIds(dataset)).flat()).toHaveLength(96);
  });

  it('batches pixels, one-hot labels and ids of the same samples', async () => {
    const iterator = await toBatchDataset(set, { batchSize: 8, shuffle: true, seed: 5, flatten: true }).iterator();
    const result = await iterator.next();
    if (result.done) throw new Error('empty dataset');
    const { xs, ys, ids } = result.value;
    expect(xs.shape).toEqual([8, 784]);
    expect(ys.shape).toEqual([8, 10]);
    const pixels = xs.dataSync();
    const labels = tf.tidy(() => tf.argMax(ys, 1)).dataSync();
    ids.forEach((id, row) => {
      expect(labels[row]).toBe(set.labels[id]);
      expect(pixels.subarray(row * 784, (row + 1) * 784)).toEqual(set.images.subarray(id * 784, (id + 1) * 784));
    });
    tf.dispose([xs, ys]);
  });

  it('shuffles each epoch differently, reproducibly for a seed', async () => {
    const a = toBatchDataset(set, { batchSize: 32, shuffle: true, seed: 42 });
    const b = toBatchDataset(set, { batchSize: 32, shuffle: true, seed: 42 });
    const c = toBatchDataset(set, { batchSize: 32, shuffle: true, seed: 43 });
    const a1 = (await epochIds(a)).flat();
    const a2 = (await epochIds(a)).flat();
    expect(a1).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...a1].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a2).not.toEqual(a1);
    expect((await epochIds(b)).flat()).toEqual(a1);
    expect((await epochIds(b)).flat()).toEqual(a2);
    expect((await epochIds(c)).flat()).not.toEqual(a1);
  });

  it('supports for await and leaks no tensors when the consumer disposes', async () => {
    const before = tf.memory().numTensors;
    let rows = 0;
    for await (const batch of toBatchDataset(set, { batchSize: 30 })) {
      rows += batch.ids.length;
      tf.dispose([batch.xs, batch.ys]);
    }
    expect(rows).toBe(100);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is accepted by model.fitDataset as it is', async () => {
    // A one-layer model: the test is about the dataset protocol, not about training speed.
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [784], units: 10, activation: 'softmax' })] });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const dataset = toBatchDataset(loadFashionMnist({ split: 'test', limit: 8 }), { batchSize: 4, flatten: true });
    await model.fitDataset(dataset, { epochs: 1, verbose: 0 }); // creates Adam's slots
    const before = tf.memory().numTensors;
    const history = await model.fitDataset(dataset, { epochs: 2, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('rejects a bad batch size', () => {
    expect(() => toBatchDataset(set, { batchSize: 0 })).toThrow(/batchSize/);
  });
});
