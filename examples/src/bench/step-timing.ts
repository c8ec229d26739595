// Timings shared by the backend benchmarks: the matmul FLOP rate on the current backend, and one
// training step of a reference model (median after warm-up, optionally with a per-kernel profile).
import * as tf from '@tensorflow/tfjs-core';
import { createTrainer } from '@trainhooks/core-hooks';
import { createModel, MODEL_INPUT_LAYOUT, type ModelName } from '@trainhooks/cli/internal';
import { median } from './stats.js';
import { timeMedian } from './timing.js';

/** GFLOP/s of an untransposed 1024³ matmul on the current backend: the rate FLOP bounds use. */
export async function matMulGflops(repeats: number): Promise<number> {
  const a = tf.randomNormal([1024, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  const ms = await timeMedian(() => tf.matMul(a, b), repeats);
  tf.dispose([a, b]);
  return (2 * 1024 ** 3) / (ms * 1e6);
}

export interface StepTiming {
  /** Median ms of the timed steps. */
  readonly ms: number;
  /** ms per kernel name in one more step (tf.profile), when asked for. */
  readonly kernelMs: Record<string, number> | null;
}

/** A seeded batch of random pixels and one-hot labels in the layout `name` takes: the same in every process. */
export function randomBatch(name: ModelName, batchSize: number): { x: tf.Tensor; y: tf.Tensor } {
  const shape = MODEL_INPUT_LAYOUT[name] === 'flat' ? [batchSize, 784] : [batchSize, 28, 28, 1];
  const x = tf.randomUniform(shape, 0, 1, 'float32', 7);
  const y = tf.cast(tf.oneHot(tf.randomUniform([batchSize], 0, 10, 'int32', 8), 10), 'float32');
  return { x, y };
}

/** One training step of `name` at `batchSize`; null when the backend lacks a kernel the step needs. */
export async function timeTrainingStep(name: ModelName, batchSize: number, repeats: number, warmup: number, { profile = false } = {}): Promise<StepTiming | null> {
  const model = createModel(name, { seed: 1 });
  const trainer = createTrainer(model);
  const { x, y } = randomBatch(name, batchSize);
  try {
    const times: number[] = [];
    for (let i = 0; i < warmup + repeats; i++) {
      const start = performance.now();
      await trainer.step({ x, y });
      if (i >= warmup) times.push(performance.now() - start);
    }
    let kernelMs: Record<string, number> | null = null;
    if (profile) {
      const info = await tf.profile(async () => void (await trainer.step({ x, y })));
      kernelMs = {};
      for (const kernel of info.kernels) kernelMs[kernel.name] = (kernelMs[kernel.name] ?? 0) + (Number(kernel.kernelTimeMs) || 0);
    }
    return { ms: median(times), kernelMs };
  } catch (error) {
    if (/kernel .* not registered|not registered for backend/i.test(String(error))) return null;
    throw error;
  } finally {
    await trainer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
}
