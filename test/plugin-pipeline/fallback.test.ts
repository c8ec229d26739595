// Do no harm: on a model where the pipeline cannot pay (784→128×4→10, batch 32: a few ms of compute a
// step against the messages between stage threads), the plugin compares the two ways on its first
// steps and goes on with the local trainer — same weights as plain training, stage threads stopped, an
// event, a warning and the reason in its report; `fallback: 'never'` keeps the pipeline.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setupBackend } from '@trainhooks/backend';
import { createTrainer } from '@trainhooks/core-hooks';
import { pipelinePlugin, type PipelineFallback, type PipelineOptions } from '@trainhooks/plugin-pipeline';

beforeAll(async () => {
  await setupBackend('wasm', { threads: 1, log: () => {} });
});

afterEach(() => vi.restoreAllMocks());

function narrowMlp(seed: number): tfl.Sequential {
  const model = tfl.sequential();
  for (let i = 0; i < 4; i++) {
    model.add(tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }), ...(i === 0 ? { inputShape: [784] } : {}) }));
  }
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 9 }) }));
  return model;
}

function batches(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    x: tf.randomUniform([32, 784], 0, 1, 'float32', 10 + i),
    y: tf.cast(tf.oneHot(tf.randomUniform([32], 0, 10, 'int32', 20 + i), 10), 'float32'),
  }));
}

function maxWeightDiff(a: tfl.LayersModel, b: tfl.LayersModel): number {
  const other = b.getWeights();
  return Math.max(...a.getWeights().map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, other[i]!))).dataSync()[0]!)));
}

async function train(options: Partial<PipelineOptions>, steps: number) {
  const data = batches(4);
  const plainModel = narrowMlp(1);
  const pipedModel = narrowMlp(1);
  const plain = createTrainer(plainModel, { optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
  const plugin = pipelinePlugin({ stages: 2, microBatches: 2, threadsPerStage: 1, ...options });
  const piped = createTrainer(pipedModel, { optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' }).use(plugin);
  const fallbacks: PipelineFallback[] = [];
  piped.events.on('pipelineFallback', (event) => void fallbacks.push(event));
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  for (let step = 0; step < steps; step++) {
    await plain.step(data[step % 4]!);
    await piped.step(data[step % 4]!);
  }
  const result = { difference: maxWeightDiff(plainModel, pipedModel), plugin, fallbacks, warnings: warn.mock.calls.map((call) => String(call[0])), runningThreads: plugin.runningThreads() };
  await Promise.all([plain.dispose(), piped.dispose()]);
  tf.dispose(data.flatMap((b) => [b.x, b.y]));
  return result;
}

describe('pipeline fallback', () => {
  it('a model where the pipeline cannot pay runs on the local trainer after the first steps, with the same weights, and says why', async () => {
    const { difference, plugin, fallbacks, warnings, runningThreads } = await train({ checkSteps: 3 }, 12);
    expect(fallbacks).toHaveLength(1);
    const [fallback] = fallbacks;
    // Either the plan already predicted no gain, or the measured comparison (1 warm-up + 3 pipelined + 3 local steps) showed none.
    expect(fallback!.reason).toMatch(/^(the plan predicts [\d.]+× over one stage thread .* < minSpeedup 1\.05×|measured over 3 steps each: pipelined [\d.]+ ms, local trainer [\d.]+ ms per step \([\d.]+× < minSpeedup 1\.05×\))$/);
    expect(fallback!.step).toBeLessThanOrEqual(6);
    expect(runningThreads).toBe(0);
    expect(warnings).toEqual([expect.stringMatching(/^plugin-pipeline: .*; the run goes on with the local trainer from step \d+ \(option fallback: 'never' keeps the pipeline\)$/)]);
    const report = plugin.report();
    expect(report.fallback).toEqual(fallback);
    expect(report.steps.length).toBeLessThanOrEqual(4); // pipelined steps only
    expect(difference).toBeLessThan(1e-4);
  });

  it("fallback: 'never' keeps the pipeline on the same model, every step", async () => {
    const { difference, plugin, fallbacks, warnings } = await train({ fallback: 'never' }, 8);
    expect(fallbacks).toEqual([]);
    expect(warnings).toEqual([]);
    expect(plugin.report().fallback).toBeNull();
    expect(plugin.report().steps).toHaveLength(8);
    expect(difference).toBeLessThan(1e-4);
  });

  it('a pipeline held to no gain at all (minSpeedup tiny) keeps running after its comparison and stays exact', async () => {
    const { difference, plugin, fallbacks } = await train({ minSpeedup: 1e-6, checkSteps: 2 }, 10);
    expect(fallbacks).toEqual([]);
    const report = plugin.report();
    expect(report.comparison!.pipelinedMs).toBeGreaterThan(0);
    expect(report.comparison!.localMs).toBeGreaterThan(0);
    // 1 warm-up + 2 timed pipelined steps, 2 local, then pipelined again: 8 of 10 steps on the stages.
    expect(report.steps).toHaveLength(8);
    expect(difference).toBeLessThan(1e-4);
  });

  it('checks its options', () => {
    expect(() => pipelinePlugin({ fallback: 'sometimes' as never })).toThrow(/option fallback must be 'auto' or 'never'/);
    expect(() => pipelinePlugin({ minSpeedup: 0 })).toThrow(/option minSpeedup must be a finite number > 0/);
    expect(() => pipelinePlugin({ checkSteps: 0 })).toThrow(/option checkSteps must be an integer ≥ 1/);
  });
});
