import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import fixedFreezeSchedule, { scheduledPrefix } from '../../examples/src/bench/fixed-freeze-schedule.js';

describe('fixed freeze schedule (the benchmarks’ hand-made comparison)', () => {
  it('asks for the largest count whose step has come', () => {
    const schedule = [[2, 1], [5, 3]] as const;
    expect([0, 1, 2, 4, 5, 9].map((step) => scheduledPrefix(schedule, step))).toEqual([0, 0, 1, 1, 3, 3]);
  });

  it('refuses a malformed schedule and unknown options', () => {
    expect(() => fixedFreezeSchedule({ schedule: [[1]] })).toThrow(/schedule must be an array of \[step, frozenUnits\]/);
    expect(() => fixedFreezeSchedule({ steps: [] } as never)).toThrow(/one of schedule/);
  });

  it('freezes the front units at the listed steps of a real training loop', async () => {
    await tf.setBackend('cpu');
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 6, activation: 'relu' }), tfl.layers.dense({ units: 5, activation: 'relu' }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const trainer = createTrainer(model).use(fixedFreezeSchedule({ schedule: [[2, 1], [4, 9]] }));
    const prefixes: number[] = [];
    trainer.hooks.afterForward.tap('record', (context) => void prefixes.push(context.frozenPrefix));
    const x = tf.randomNormal([12, 4], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0], 'int32'), 2);
    await trainer.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false });
    // Steps 0–1 train everything, 2–3 freeze one unit, from 4 on every unit but the head (9 is capped).
    expect(prefixes).toEqual([0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
    tf.dispose([x, y]);
  });
});
