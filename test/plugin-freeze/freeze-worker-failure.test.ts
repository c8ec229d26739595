import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import { freezePlugin, type FreezeErrorEvent, type FreezeOptions } from '@trainhooks/plugin-freeze';
import { denseModel, toyData, useCpu } from '../core-hooks/helpers.js';

beforeAll(useCpu);

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function trainWithWorker(options: Partial<FreezeOptions>, steps: number) {
  const trainer = createTrainer(denseModel(1), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const plugin = freezePlugin({ warmupSteps: 2, evalEvery: 2, referenceLag: 1, window: 2, patience: 1, deterministic: true, ...options });
  trainer.use(plugin);
  const errors: FreezeErrorEvent[] = [];
  trainer.events.on('freezeError', (event) => void errors.push(event));
  const data = toyData(16, 8, 3);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) losses.push((await trainer.step(data)).loss!);
  await trainer.dispose();
  tf.dispose([data.x, data.y]);
  return { errors, losses, report: plugin.report(), trainer };
}

describe('FreezePlugin when the reference worker fails', () => {
  it('a worker that throws: training goes on, freezeError says why, the pool restarts maxRestarts times, then evaluations stop', async () => {
    const { errors, losses, report, trainer } = await trainWithWorker({ workerSetup: fixture('throwing-setup.mjs'), maxRestarts: 2 }, 30);
    expect(losses).toHaveLength(30);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(errors.map((error) => [error.restarts, error.gaveUp])).toEqual([[1, false], [2, false], [2, true]]);
    expect(errors[0]!.error).toMatch(/this reference worker is broken/);
    expect(report.failures).toBe(3);
    expect(report.evaluations).toBe(3); // none after giving up
    expect(trainer.frozenPrefix).toBe(0);
  });

  it('a worker that is terminated mid-task: freezeError, training goes on', async () => {
    const { errors, losses } = await trainWithWorker({ workerSetup: fixture('exiting-setup.mjs'), maxRestarts: 1 }, 12);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(errors.length).toBe(2);
    expect(errors.at(-1)!.gaveUp).toBe(true);
  });

  it('a worker that hangs: the timeout aborts it, freezeError, no hang', async () => {
    const start = performance.now();
    const { errors, losses } = await trainWithWorker({ workerSetup: fixture('hanging-setup.mjs'), workerTimeoutMs: 300, maxRestarts: 0 }, 10);
    expect(losses).toHaveLength(10);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toMatch(/longer than 300 ms/);
    expect(errors[0]!.gaveUp).toBe(true);
    expect(performance.now() - start).toBeLessThan(20_000);
  });
});
