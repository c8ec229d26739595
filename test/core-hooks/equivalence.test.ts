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

  it('evaluate equals model.evaluate; callbacks fire like tfjs and can stop training', async () => {
    const { x, y } = toyData(40, 8, 3, 6);
    const model = denseModel(8);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const trainer = createTrainer(model);
    const [expectedLoss, expectedAcc] = (model.evaluate(x, y, { batchSize: 16 }) as tf.Scalar[]).map((t) => t.dataSync()[0]!);
    const result = await trainer.evaluate(x, y, { batchSize: 16 });
    expect(result.loss).toBeCloseTo(expectedLoss!, 5);
    expect(result.acc).toBeCloseTo(expectedAcc!, 5);

    const calls: string[] = [];
    const history = await trainer.fit(x, y, {
      epochs: 5,
      batchSize: 20,
      validationData: [x, y],
      callbacks: {
        onTrainBegin: () => void calls.push('trainBegin'),
        onEpochBegin: (epoch) => void calls.push(`epochBegin ${epoch}`),
        onBatchEnd: (batch, logs) => void calls.push(`batchEnd ${batch} size ${logs?.size}`),
        onEpochEnd: (epoch, logs) => {
          calls.push(`epochEnd ${epoch} ${Object.keys(logs ?? {}).sort().join(',')}`);
          if (epoch === 1) model.stopTraining = true;
        },
        onTrainEnd: () => void calls.push('trainEnd'),
      },
    });
    expect(calls).toEqual([
      'trainBegin',
      'epochBegin 0',
      'batchEnd 0 size 20',
      'batchEnd 1 size 20',
      'epochEnd 0 acc,loss,val_acc,val_loss',
      'epochBegin 1',
      'batchEnd 0 size 20',
      'batchEnd 1 size 20',
      'epochEnd 1 acc,loss,val_acc,val_loss',
      'trainEnd',
    ]);
    expect(history.epoch).toEqual([0, 1]);
    model.stopTraining = false;
    tf.dispose([x, y]);
  });
});
