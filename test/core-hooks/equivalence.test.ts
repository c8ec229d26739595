import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import { denseModel, maxAbsDiff, toyData, useCpu } from './helpers.js';

const OPTIMIZERS: Record<string, () => tf.Optimizer> = {
  sgd: () => tf.train.sgd(0.1),
  adam: () => tf.train.adam(0.01),
  rmsprop: () => tf.train.rmsprop(0.01),
  momentum: () => tf.train.momentum(0.05, 0.9),
  adagrad: () => tf.train.adagrad(0.1),
};

beforeAll(useCpu);

describe('trainer.fit without plugins equals model.fit', () => {
  for (const [name, makeOptimizer] of Object.entries(OPTIMIZERS)) {
    it(`${name}: 20 steps, same weights (1e-5) and same History losses`, async () => {
      const { x, y } = toyData(80, 8, 3);
      const reference = denseModel(7);
      const ours = denseModel(7);
      const compile = (model: tfl.LayersModel) =>
        model.compile({ optimizer: makeOptimizer(), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      compile(reference);
      compile(ours);
      // 80 samples / batch 16 = 5 steps per epoch, 4 epochs = 20 steps.
      const fitOptions = { epochs: 4, batchSize: 16, shuffle: false, verbose: 0 as const };
      const expected = await reference.fit(x, y, fitOptions);
      const actual = await createTrainer(ours).fit(x, y, fitOptions);

      const referenceWeights = reference.getWeights();
      ours.getWeights().forEach((w, i) => expect(maxAbsDiff(w, referenceWeights[i]!)).toBeLessThan(1e-5));
      expect(actual.epoch).toEqual(expected.epoch);
      const expectedLoss = expected.history.loss as number[];
      actual.history.loss!.forEach((loss, i) => expect(loss).toBeCloseTo(expectedLoss[i]!, 5));
      const expectedAcc = expected.history.acc as number[];
      actual.history.acc!.forEach((acc, i) => expect(acc).toBeCloseTo(expectedAcc[i]!, 5));
      tf.dispose([x, y]);
    });
  }

  it('validationSplit gives the same val_loss as model.fit', async () => {
    const { x, y } = toyData(60, 8, 3, 5);
    const reference = denseModel(3);
    const ours = denseModel(3);
    for (const model of [reference, ours]) {
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    }
    const options = { epochs: 2, batchSize: 10, shuffle: false, validationSplit: 0.25, verbose: 0 as const };
    const expected = await reference.fit(x, y, options);
    const actual = await createTrainer(ours).fit(x, y, options);
    const expectedVal = expected.history.val_loss as number[];
    actual.history.val_loss!.forEach((v, i) => expect(v).toBeCloseTo(expectedVal[i]!, 5));
    tf.dispose([x, y]);
  });
});
