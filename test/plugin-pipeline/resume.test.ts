// A pipelined run saved mid-epoch and restored: the restored trainer re-plans its stages, sends them the
// restored weights and continues with the weights plain training reaches on the same batches.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@trainhooks/backend';
import { createTrainer, restoreTrainer } from '@trainhooks/core-hooks';
import { pipelinePlugin } from '@trainhooks/plugin-pipeline';

const work = mkdtempSync(join(tmpdir(), 'trainhooks-pipeline-resume-'));
beforeAll(async () => {
  await setupBackend('wasm', { threads: 1, log: () => {} });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function model(seed: number): tfl.Sequential {
  const layers = [16, 16, 16].map((units, i) => tfl.layers.dense({ units, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }), ...(i === 0 ? { inputShape: [8] } : {}) }));
  return tfl.sequential({ layers: [...layers, tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 9 }) })] });
}

const options = () => ({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' as const });
const pipeline = () => pipelinePlugin({ stages: 2, microBatches: 2, threadsPerStage: 1, fallback: 'never' });

describe('pipeline across a checkpoint', () => {
  it('restored mid-epoch, it re-plans and ends with the weights of plain training (1e-4, as the pipeline does)', async () => {
    const x = tf.randomUniform([48, 8], -1, 1, 'float32', 3);
    const y = tf.cast(tf.oneHot(tf.randomUniform([48], 0, 3, 'int32', 4), 3), 'float32');
    const fit = { epochs: 2, batchSize: 8, shuffleSeed: 5 };

    const plainModel = model(1);
    await createTrainer(plainModel, options()).fit(x, y, fit);

    const dir = join(work, 'checkpoint');
    const first = createTrainer(model(1), options()).use(pipeline());
    await first.fit(x, y, {
      ...fit,
      callbacks: {
        onBatchEnd: async () => {
          if (first.globalStep !== 8) return;
          await first.save(dir);
          first.stopTraining = true;
        },
      },
    });
    await first.dispose();

    const restoredModel = model(50);
    const plugin = pipeline();
    const restored = await restoreTrainer(dir, restoredModel, [plugin], options());
    await restored.fit(x, y, fit);
    expect(restored.globalStep).toBe(12);
    expect(plugin.plan()?.stages).toHaveLength(2);
    const expected = plainModel.getWeights();
    const difference = Math.max(...restoredModel.getWeights().map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, expected[i]!))).dataSync()[0]!)));
    expect(difference).toBeLessThan(1e-4);
    await restored.dispose();
    tf.dispose([x, y]);
  }, 120_000);
});
