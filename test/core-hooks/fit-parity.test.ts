// trainer.fit / fitDataset / evaluate against tfjs-layers' own, off the happy path.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import { denseModel, maxAbsDiff, toyData, useFastCpu } from './helpers.js';

beforeAll(useFastCpu);

/** A small conv net whose weights depend only on `seed`. */
function convModel(seed: number): tfl.Sequential {
  const init = (offset: number) => tfl.initializers.glorotUniform({ seed: seed + offset });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(2) }),
    ],
  });
}

function imageData(samples: number, seed: number) {
  return tf.tidy(() => {
    const x = tf.randomNormal([samples, 8, 8, 1], 0, 1, 'float32', seed);
    const labels = tf.argMax(tf.matMul(tf.reshape(x, [samples, 64]), tf.randomNormal([64, 3], 0, 1, 'float32', seed + 1)), 1);
    return { x, y: tf.cast(tf.oneHot(labels, 3), 'float32') };
  });
}

function expectSameHistory(actual: tfl.History | { epoch: number[]; history: Record<string, number[]> }, expected: tfl.History): void {
  expect(actual.epoch).toEqual(expected.epoch);
  expect(Object.keys(actual.history).sort()).toEqual(Object.keys(expected.history).sort());
  for (const [key, values] of Object.entries(expected.history)) {
    (values as number[]).forEach((value, i) => expect(actual.history[key]![i]).toBeCloseTo(value, 4));
  }
}

function expectSameWeights(a: tfl.LayersModel, b: tfl.LayersModel): void {
  const expected = b.getWeights();
  a.getWeights().forEach((w, i) => expect(maxAbsDiff(w, expected[i]!)).toBeLessThan(1e-5));
}

describe('fit parity with model.fit off the happy path', () => {
  it('conv model, validationSplit and tf.callbacks.earlyStopping: same epochs, History and weights', async () => {
    const { x, y } = imageData(60, 3);
    const [reference, ours] = [convModel(5), convModel(5)];
    for (const model of [reference, ours]) {
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    }
    // minDelta 10 means "never improves after the first epoch": patience 1 stops after epoch 1.
    const options = () => ({
      epochs: 6,
      batchSize: 16,
      shuffle: false,
      validationSplit: 0.25,
      verbose: 0 as const,
      callbacks: [tfl.callbacks.earlyStopping({ monitor: 'val_loss', minDelta: 10, patience: 1 })],
    });
    const expected = await reference.fit(x, y, options());
    const actual = await createTrainer(ours).fit(x, y, options());
    expect(expected.epoch).toEqual([0, 1]);
    expectSameHistory(actual, expected);
    expect(actual.params).toEqual(expected.params);
    expectSameWeights(ours, reference);
    tf.dispose([x, y]);
  });

  it('a tf.Callback subclass sees this.model and this.params as under model.fit', async () => {
    class Recorder extends tfl.Callback {
      seen: unknown[] = [];
      override async onEpochEnd(epoch: number, logs?: tfl.Logs) {
        this.seen.push([epoch, this.model === innerModel(target), this.params, Object.keys(logs ?? {}).sort()]);
      }
    }
    let target: tfl.LayersModel;
    const { x, y } = toyData(30, 8, 3);
    const run = async (fit: (callback: Recorder) => Promise<unknown>, model: tfl.LayersModel) => {
      target = model;
      const recorder = new Recorder();
      await fit(recorder);
      return recorder.seen;
    };
    const [reference, ours] = [denseModel(2), denseModel(2)];
    for (const model of [reference, ours]) model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const options = { epochs: 2, batchSize: 8, validationData: [x, y] as [tf.Tensor, tf.Tensor], verbose: 0 as const };
    const expected = await run((callback) => reference.fit(x, y, { ...options, callbacks: [callback] }), reference);
    // Under model.fit a Sequential's callbacks see the LayersModel it wraps: so they do here.
    const trainer = createTrainer(ours);
    const actual = await run((callback) => trainer.fit(x, y, { ...options, callbacks: [callback] }), ours);
    expect(actual).toEqual(expected);
    tf.dispose([x, y]);
  });

  it('stopTraining set by a callback does not leak into the next fit (used to run 0 epochs)', async () => {
    const { x, y } = toyData(20, 8, 3);
    const model = denseModel(3);
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const trainer = createTrainer(model);
    const stopped = await trainer.fit(x, y, { epochs: 3, callbacks: { onEpochEnd: () => void (model.stopTraining = true) } });
    expect(stopped.epoch).toEqual([0]);
    expect((await trainer.fit(x, y, { epochs: 3 })).epoch).toEqual([0, 1, 2]);
    trainer.stopTraining = true;
    expect((await trainer.fit(x, y, { epochs: 2 })).epoch).toEqual([0, 1]);
    tf.dispose([x, y]);
  });

  it('stopping mid-epoch: that epoch has no val_ logs, as in tfjs (validation runs with the last batch)', async () => {
    const { x, y } = toyData(40, 8, 3);
    const [reference, ours] = [denseModel(4), denseModel(4)];
    for (const model of [reference, ours]) model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const options = (model: tfl.LayersModel) => ({
      epochs: 3,
      batchSize: 10,
      shuffle: false,
      validationSplit: 0.25,
      verbose: 0 as const,
      callbacks: { onBatchEnd: (batch: number) => void (batch === 1 && (model.stopTraining = true)) },
    });
    const expected = await reference.fit(x, y, options(reference));
    const actual = await createTrainer(ours).fit(x, y, options(ours));
    expect(Object.keys(expected.history).sort()).toEqual(['acc', 'loss']);
    expectSameHistory(actual, expected);
    tf.dispose([x, y]);
  });

  it("'accuracy' follows the loss and output as tfjs resolves it: binary, sparse, categorical", async () => {
    const { x } = toyData(24, 8, 3, 9);
    const binaryY = tf.tidy(() => tf.cast(tf.greater(tf.sum(x, 1, true), 0), 'float32'));
    const sparseY = tf.tidy(() => tf.cast(tf.argMax(tf.slice(x, [0, 0], [24, 3]), 1), 'float32'));
    const cases: Array<[string, number[], string, tf.Tensor]> = [
      ['binary crossentropy, one sigmoid unit', [8, 6, 1], 'binaryCrossentropy', binaryY],
      ['sparse categorical crossentropy', [8, 6, 3], 'sparseCategoricalCrossentropy', sparseY],
    ];
    for (const [, sizes, loss, y] of cases) {
      // Softmax over one unit is constant: the binary case uses a sigmoid head.
      const head = sizes.at(-1) === 1 ? sigmoidModel(6) : denseModel(6, sizes);
      head.compile({ optimizer: 'sgd', loss, metrics: ['accuracy'] });
      const [expectedLoss, expectedAcc] = (head.evaluate(x, y, { batchSize: 5 }) as tf.Scalar[]).map((t) => t.dataSync()[0]!);
      // From the compiled model, and with metrics passed as an option (the loss comes from compile).
      for (const trainer of [createTrainer(head), createTrainer(head, { metrics: ['accuracy'] })]) {
        const result = await trainer.evaluate(x, y, { batchSize: 5 });
        expect(result.loss).toBeCloseTo(expectedLoss!, 5);
        expect(result.acc).toBeCloseTo(expectedAcc!, 5);
      }
      const named = await createTrainer(head, { loss: loss as never, metrics: ['acc'] }).evaluate(x, y, { batchSize: 5 });
      expect(named.acc).toBeCloseTo(expectedAcc!, 5);
    }
    tf.dispose([x, binaryY, sparseY]);
  });

  it('evaluate weights batch means by batch size, so a loss that returns a scalar is right', async () => {
    const { x, y } = toyData(23, 8, 3, 4); // 23 = 5 batches of 5, the last one short
    const model = denseModel(5);
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const perSample = await createTrainer(model).evaluate(x, y, { batchSize: 5 });
    const scalarLoss = (t: tf.Tensor, p: tf.Tensor) => tf.losses.meanSquaredError(t, p);
    const scalar = await createTrainer(model, { loss: scalarLoss }).evaluate(x, y, { batchSize: 5 });
    const expected = (model.evaluate(x, y, { batchSize: 5 }) as tf.Scalar).dataSync()[0]!;
    expect(perSample.loss).toBeCloseTo(expected, 5);
    expect(scalar.loss).toBeCloseTo(expected, 5);
    tf.dispose([x, y]);
  });
});

function innerModel(model: tfl.LayersModel): unknown {
  return (model as unknown as { model?: unknown }).model ?? model;
}

function sigmoidModel(seed: number): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [8], units: 6, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

describe('fit extensions', () => {
  it('shuffleSeed: the same seed gives the same batches and the same weights; another seed other batches', async () => {
    const { x, y } = toyData(40, 8, 3);
    const run = async (shuffleSeed: number) => {
      const model = denseModel(12);
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
      const trainer = createTrainer(model);
      const ids: number[] = [];
      trainer.hooks.beforeStep.tap('ids', (c) => void ids.push(...c.ids!));
      await trainer.fit(x, y, { epochs: 2, batchSize: 8, shuffleSeed });
      return { ids, weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
    };
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(b.ids).toEqual(a.ids);
    expect(b.weights).toEqual(a.weights);
    expect(c.ids).not.toEqual(a.ids);
    expect([...a.ids.slice(0, 40)].sort((p, q) => p - q)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await expect(createTrainer(denseModel(1), { optimizer: tf.train.sgd(1), loss: 'meanSquaredError' }).fit(x, y, { shuffleSeed: -1 })).rejects.toThrow(
      /shuffleSeed must be an integer in \[0, 2³²\), got -1/,
    );
    tf.dispose([x, y]);
  });
});

describe('fitDataset parity with model.fitDataset', () => {
  /** A dataset of `batches` batches of 5 rows, from one iterator that never restarts its data. */
  function finiteDataset(x: tf.Tensor, y: tf.Tensor, batches: number) {
    return {
      size: null,
      async iterator() {
        let index = 0;
        return {
          async next(): Promise<IteratorResult<{ xs: tf.Tensor; ys: tf.Tensor }>> {
            if (index >= batches) return { done: true, value: undefined };
            const start = 5 * index++;
            return { done: false, value: { xs: tf.slice(x, start, 5), ys: tf.slice(y, start, 5) } };
          },
        };
      },
    };
  }

  it('an iterator that runs short of batchesPerEpoch: warns, ends the epoch, trains on — as tfjs', async () => {
    const { x, y } = toyData(40, 8, 3, 8);
    const [reference, ours] = [denseModel(9), denseModel(9)];
    for (const model of [reference, ours]) model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const options = { epochs: 3, batchesPerEpoch: 2, validationData: [x, y] as [tf.Tensor, tf.Tensor], verbose: 0 as const };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const expected = await reference.fitDataset(finiteDataset(x, y, 3) as never, options);
    const tfjsWarnings = warn.mock.calls.length;
    const trainer = createTrainer(ours);
    const actual = await trainer.fitDataset(finiteDataset(x, y, 3), options);
    const ourWarnings = warn.mock.calls.length - tfjsWarnings;
    expect(tfjsWarnings).toBe(2);
    expect(ourWarnings).toBe(2);
    expectSameHistory(actual, expected);
    expect(actual.params).toEqual(expected.params);
    expectSameWeights(ours, reference);
    // Once the optimizer state exists, a run that stops short leaks nothing.
    const before = tf.memory().numTensors;
    await trainer.fitDataset(finiteDataset(x, y, 3), { ...options, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    warn.mockRestore();
    tf.dispose([x, y]);
  });

  it('one pass per epoch with validation: same History and weights', async () => {
    const { x, y } = toyData(20, 8, 3, 10);
    const [reference, ours] = [denseModel(11), denseModel(11)];
    for (const model of [reference, ours]) model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const options = { epochs: 2, validationData: [x, y] as [tf.Tensor, tf.Tensor], validationBatchSize: 7, verbose: 0 as const };
    const expected = await reference.fitDataset(finiteDataset(x, y, 4) as never, options);
    const actual = await createTrainer(ours).fitDataset(finiteDataset(x, y, 4), options);
    expectSameHistory(actual, expected);
    expectSameWeights(ours, reference);
    tf.dispose([x, y]);
  });
});
