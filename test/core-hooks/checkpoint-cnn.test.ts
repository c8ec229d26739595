// Exact resume on the CLI's cnn (conv layers, Dropout 0.25 and 0.5, a 512-unit dense layer) with every
// plugin at once, on wasm with one thread: saved mid-epoch, restored in a new process, bit-identical.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAVE_AT, STEPS_PER_EPOCH, straightAndResumed } from './fixtures/resume-check.js';
import { EPOCHS, useBackendOf } from './fixtures/resume-workload.js';

const work = mkdtempSync(join(tmpdir(), 'trainhooks-checkpoint-cnn-'));
beforeAll(() => useBackendOf('cnn'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('cnn: save mid-epoch, restore in a new process, continue', () => {
  it.each(['adam', 'momentum'] as const)('%s with freeze + act-cache (disk) + grad-prune: bit-identical weights, the same decisions', async (name) => {
    const { straight, resumed } = await straightAndResumed('cnn', name, ['freeze', 'act-cache', 'grad-prune'], join(work, name));
    expect(resumed.globalStep).toBe(EPOCHS * STEPS_PER_EPOCH);
    expect(resumed.decisions).toEqual(straight.decisions);
    // Freezing goes on after the save: the restored plugins decide, not only replay.
    const timeline = (straight.decisions as { freezeTimeline: Array<{ step: number }> }).freezeTimeline;
    expect(timeline.some((event) => event.step > SAVE_AT)).toBe(true);
    resumed.weights.forEach((values, index) => expect(values, `weight ${index}`).toEqual(straight.weights[index]));
  });
});
