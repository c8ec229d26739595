import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { FAST_GRADIENTS, setupBackend, WASM_KERNELS } from '@trainhooks/backend/internal';

function runWorker(module: URL, data: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const entry = new URL('./fixtures/tsx-worker.mjs', import.meta.url);
    const worker = new Worker(entry, { workerData: { ...data, module: module.href } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

describe('setupBackend', () => {
  it("'wasm' registers our kernels and tfjs runs them", async () => {
    const lines: string[] = [];
    const setup = await setupBackend('wasm', (line) => lines.push(line));
    expect(setup.choice).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(setup.kernels).toEqual(WASM_KERNELS.map((k) => k.kernelName));
    for (const kernel of WASM_KERNELS) expect(tf.getKernel(kernel.kernelName, 'wasm').kernelFunc).toBe(kernel.kernelFunc);
    expect(lines[0]).toMatch(/^\[trainhooks\] backend: wasm/);
    expect(setup.gradients).toEqual(['Mean', 'FusedBatchNorm']);
    for (const gradient of FAST_GRADIENTS) expect(tf.getGradient(gradient.kernelName)).toBe(gradient);
    // A second call changes nothing.
    await setupBackend('wasm', () => {});
    for (const kernel of WASM_KERNELS) expect(tf.getKernel(kernel.kernelName, 'wasm').kernelFunc).toBe(kernel.kernelFunc);
  });

  it('trains two steps of cnn on wasm inside a worker thread', async () => {
    const result = await runWorker(new URL('./fixtures/train-cnn-in-worker.ts', import.meta.url), { steps: 2, batchSize: 16 });
    expect(result.backend).toBe('wasm');
    expect(result.kernels).toContain('Conv2DBackpropFilter');
    const losses = result.losses as number[];
    expect(losses).toHaveLength(2);
    for (const loss of losses) expect(Number.isFinite(loss)).toBe(true);
  });
});
