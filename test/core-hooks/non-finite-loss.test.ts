// A step whose loss is NaN or ±Infinity never reaches the weights: onNonFiniteLoss 'stop' (the default)
// ends training with an error naming the step, 'skip-step' drops that step's update; both emit nonFiniteLoss.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import { denseModel, snapshot, toyData, useCpu } from './helpers.js';

beforeAll(useCpu);

/** 32 samples in batches of 8 (no shuffle): batch 2 (rows 16–23) holds a NaN. */
function poisonedData() {
  const { x, y } = toyData(32, 8, 3);
  const values = x.dataSync().slice();
  values[16 * 8 + 3] = NaN;
  x.dispose();
  return { x: tf.tensor2d(values, [32, 8]), y };
}

const allFinite = (variables: readonly tf.Variable[]) => variables.every((variable) => variable.dataSync().every(Number.isFinite));

describe('a non-finite loss', () => {
  it("'stop' (the default): fit throws naming the step, and the weights are those before it", async () => {
    const { x, y } = poisonedData();
    const trainer = createTrainer(denseModel(1), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const events: unknown[] = [];
    trainer.events.on('nonFiniteLoss', (event) => events.push(event));
    let beforeBadStep: Map<string, Float32Array> | null = null;
    trainer.hooks.beforeStep.tap('snapshot', (context) => void (context.step === 2 && (beforeBadStep = snapshot(trainer.variables))));
    await expect(trainer.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false })).rejects.toThrow(/the loss is NaN at step 2 \(epoch 0\); the weights are left as they were/);
    expect(events).toEqual([{ step: 2, epoch: 0, loss: NaN, action: 'stop' }]);
    expect(snapshot(trainer.variables)).toEqual(beforeBadStep);
    tf.dispose([x, y]);
  });

  it("'skip-step': that step's update is dropped, the others train, and nothing becomes NaN", async () => {
    const { x, y } = poisonedData();
    const trainer = createTrainer(denseModel(1), { optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', onNonFiniteLoss: 'skip-step' });
    const steps: number[] = [];
    trainer.events.on('nonFiniteLoss', (event) => steps.push(event.step));
    const before = snapshot(trainer.variables);
    await trainer.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false });
    expect(steps).toEqual([2, 6]);
    expect(trainer.stats().counters.nonFiniteLossSkipped).toBe(2);
    expect(allFinite(trainer.variables)).toBe(true);
    expect(snapshot(trainer.variables)).not.toEqual(before);
    tf.dispose([x, y]);
  });

  it('the option is checked', () => {
    expect(() => createTrainer(denseModel(1), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', onNonFiniteLoss: 'ignore' as never })).toThrow(
      /options\.onNonFiniteLoss.*'stop' or 'skip-step'/,
    );
  });
});
