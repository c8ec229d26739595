import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import { createMnistCoreModel, loadFashionMnist, toTensors } from '@trainhooks/cli';
import { bitIdentical, useFastWasm } from './helpers.js';

beforeAll(useFastWasm);

describe('raw-variable models train through hand-declared units', () => {
  it('mnist-core style model: loss falls on Fashion-MNIST, frozen unit untouched', async () => {
    const model = createMnistCoreModel(3);
    const trainer = createTrainer(model, { optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    expect(trainer.units.map((unit) => unit.name)).toHaveLength(model.units.length);

    const set = loadFashionMnist({ split: 'train', limit: 256 });
    const { xs, ys } = toTensors(set);
    const history = await trainer.fit(xs, ys, { epochs: 4, batchSize: 32, shuffle: true });
    const losses = history.history.loss!;
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.8);

    // Freezing the first hand-declared unit keeps its variables as they are.
    trainer.frozenPrefix = 1;
    const first = model.units[0]!.variables.map((v) => v.dataSync().slice());
    await trainer.fit(xs, ys, { epochs: 1, batchSize: 64 });
    model.units[0]!.variables.forEach((v, i) => expect(bitIdentical(v.dataSync(), first[i]!)).toBe(true));
    tf.dispose([xs, ys]);
  });
});
