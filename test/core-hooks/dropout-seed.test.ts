// options.dropoutSeed: Dropout masks that depend only on the step, so runs repeat exactly.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import { mixSeed } from '@trainhooks/core-hooks/internal';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function model(extra?: tfl.layers.Layer): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [6], units: 16, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.dropout({ rate: 0.5 }),
      ...(extra ? [extra] : []),
      tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

async function train(dropoutSeed: number | undefined): Promise<number[]> {
  const net = model();
  const trainer = createTrainer(net, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', ...(dropoutSeed === undefined ? {} : { dropoutSeed }) });
  const x = tf.tensor2d(Array.from({ length: 48 }, (_, i) => Math.sin(i)), [8, 6]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0, 0, 1], 'int32'), 2);
  for (let step = 0; step < 5; step++) await trainer.step({ x, y });
  const values = Array.from(net.getWeights()[0]!.dataSync());
  await trainer.dispose();
  tf.dispose([x, y]);
  return values;
}

describe('options.dropoutSeed', () => {
  it('makes training with Dropout repeat bit for bit; another seed draws other masks', async () => {
    const a = await train(3);
    expect(await train(3)).toEqual(a);
    expect(await train(4)).not.toEqual(a);
  });

  it('draws a new mask every step (a seeded tfjs Dropout alone repeats one mask)', () => {
    const seeds = Array.from({ length: 100 }, (_, step) => mixSeed(3, step, 0));
    expect(new Set(seeds).size).toBe(100);
    expect(mixSeed(3, 5, 1)).not.toBe(mixSeed(3, 5, 0));
  });

  it('refuses noise layers it cannot seed, and values that are not non-negative integers', () => {
    expect(() => createTrainer(model(tfl.layers.gaussianNoise({ stddev: 0.1 })), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', dropoutSeed: 1 })).toThrow(
      /dropoutSeed cannot make the layer .* \(GaussianNoise\) reproducible/,
    );
    for (const bad of [-1, 1.5, Number.NaN, '3']) {
      expect(() => createTrainer(model(), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', dropoutSeed: bad as number })).toThrow(/options\.dropoutSeed must be a non-negative integer/);
    }
  });
});
