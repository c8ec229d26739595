// Our gradients (Mean's without a JavaScript array of ones, FusedBatchNorm's without the tile) against
// tfjs' own, on cpu and on wasm with our kernels: every input's gradient bit-identical, over the shapes
// and options the ops take (axes, keepDims, per-channel or full statistics, no scale, size-1 axes, the
// moments-then-batchNorm graph of tfjs-layers' BatchNormalization in training).
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { CPU_KERNELS, FAST_GRADIENTS, installGradients, uninstallGradients, WASM_KERNELS } from '@trainhooks/backend/internal';
import { meanGradient } from '../../packages/backend/src/gradients/mean-gradient.js';
import { fusedBatchNormGradient } from '../../packages/backend/src/gradients/fused-batch-norm-gradient.js';
import { maxRelativeError, useBackendWithKernels } from './kernel-test-helpers.js';

type Inputs = tf.Tensor[];
interface Case {
  readonly label: string;
  /** Largest relative error against tfjs' gradient (0: bit-identical). */
  readonly tolerance: number;
  /** The inputs to differentiate with respect to (seeded). */
  readonly inputs: () => Inputs;
  readonly f: (...inputs: Inputs) => tf.Tensor;
}

const normal = (shape: number[], seed: number, mean = 0) => tf.randomNormal(shape, mean, 1, 'float32', seed);
const positive = (shape: number[], seed: number) => tf.add(tf.abs(normal(shape, seed)), 0.05);

const MEAN_CASES: Case[] = [
  { label: 'NHWC over [0, 1, 2]', tolerance: 0, inputs: () => [normal([3, 5, 4, 6], 1)], f: (x) => tf.mean(x!, [0, 1, 2]) },
  { label: 'over axis 1 of 2-D', tolerance: 0, inputs: () => [normal([4, 7], 2)], f: (x) => tf.mean(x!, 1) },
  { label: 'over every axis', tolerance: 0, inputs: () => [normal([2, 3, 4], 3)], f: (x) => tf.mean(x!) },
  { label: 'keepDims, axes [0, 2]', tolerance: 0, inputs: () => [normal([3, 4, 5], 4)], f: (x) => tf.mean(x!, [0, 2], true) },
  { label: 'negative axis', tolerance: 0, inputs: () => [normal([5, 6], 5)], f: (x) => tf.mean(x!, -1) },
];

/**
 * max|ours − tfjs| / max(1, max|tfjs|) allowed where products are regrouped: float32 roundings over channel
 * sums of thousands of terms (measured ≤ 1.6e-6).
 */
const REGROUPED = 1e-5;

/** tfjs-layers' BatchNormalization in training: the batch's moments, then batchNorm. */
function trainingBatchNorm(x?: tf.Tensor, scale?: tf.Tensor, offset?: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x!, [0, 1, 2]);
  return tf.batchNorm(x!, mean, variance, offset, scale, 1e-3);
}

// (tfjs differentiates batchNorm only when both scale and offset are given: it saves the missing ones.)
const BATCH_NORM_CASES: Case[] = [
  {
    label: '4-D, per-channel statistics, scale and offset',
    tolerance: REGROUPED,
    inputs: () => [normal([2, 5, 3, 4], 11), normal([4], 12), positive([4], 13), normal([4], 14, 1), normal([4], 15)],
    f: (x, m, v, s, o) => tf.batchNorm(x!, m!, v!, o, s, 1e-3),
  },
  {
    label: '2-D input',
    tolerance: REGROUPED,
    inputs: () => [normal([6, 4], 31), normal([4], 32), positive([4], 33), normal([4], 34, 1), normal([4], 35)],
    f: (x, m, v, s, o) => tf.batchNorm(x!, m!, v!, o, s, 1e-5),
  },
  {
    label: 'statistics of x\'s own shape',
    tolerance: 0,
    inputs: () => [normal([2, 3, 3, 2], 41), normal([2, 3, 3, 2], 42), positive([2, 3, 3, 2], 43), normal([2, 3, 3, 2], 44, 1), normal([2, 3, 3, 2], 45)],
    f: (x, m, v, s, o) => tf.batchNorm(x!, m!, v!, o, s, 1e-3),
  },
  {
    label: 'training-mode BatchNormalization, resnet-sized channel sums (6272 rows)',
    tolerance: REGROUPED,
    inputs: () => [normal([32, 14, 14, 16], 61, 0.5), normal([16], 62, 1), normal([16], 63)],
    f: trainingBatchNorm,
  },
  {
    label: 'training-mode BatchNormalization (moments of x, batch of one)',
    tolerance: REGROUPED,
    inputs: () => [normal([1, 4, 3, 6], 51, 0.5), normal([6], 52, 1), normal([6], 53)],
    f: trainingBatchNorm,
  },
];

/** Every input's gradient of sum(f(inputs) · dy). */
function gradients(c: Case): Float32Array[] {
  const grads = tf.tidy(() => {
    const inputs = c.inputs();
    const dy = tf.randomNormal(c.f(...inputs).shape, 0, 1, 'float32', 99);
    return tf.grads((...xs: tf.Tensor[]) => c.f(...xs))(inputs, dy);
  });
  const values = grads.map((g) => Float32Array.from(g.dataSync()));
  tf.dispose(grads);
  return values;
}

const BACKENDS = [
  ['cpu', CPU_KERNELS],
  ['wasm', WASM_KERNELS],
] as const;

afterAll(() => installGradients(FAST_GRADIENTS));

describe.each(BACKENDS)('our gradients on %s', (backend, kernels) => {
  for (const [op, cases] of [['Mean', MEAN_CASES], ['FusedBatchNorm', BATCH_NORM_CASES]] as const) {
    it.each(cases.map((c) => [c.label, c] as const))(`${op}: %s — as tfjs' gradient`, async (_label, c) => {
      await useBackendWithKernels(backend, kernels);
      uninstallGradients(FAST_GRADIENTS);
      expect(tf.getGradient(op)).not.toBe(op === 'Mean' ? meanGradient : fusedBatchNormGradient);
      const stock = gradients(c);
      installGradients(FAST_GRADIENTS);
      expect(tf.getGradient(op)).toBe(op === 'Mean' ? meanGradient : fusedBatchNormGradient);
      const ours = gradients(c);
      expect(ours.length).toBe(stock.length);
      ours.forEach((values, i) => {
        expect(values.length, `input ${i}`).toBe(stock[i]!.length);
        if (c.tolerance > 0) {
          expect(maxRelativeError(values, stock[i]!), `input ${i}`).toBeLessThanOrEqual(c.tolerance);
          return;
        }
        const [oursBits, stockBits] = [new Uint32Array(values.buffer), new Uint32Array(stock[i]!.buffer)];
        expect(oursBits.findIndex((b, j) => b !== stockBits[j]), `input ${i}: first differing element`).toBe(-1);
      });
    });
  }
});
