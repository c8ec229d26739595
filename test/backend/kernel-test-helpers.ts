// Shared by the kernel tests in test/backend: seeded random inputs, the error measure against the stock
// tfjs-cpu reference (max|ours − ref| / max(1, max|ref|) ≤ 1e-4), and backend set-up.
// Seeded generators come from '@trainhooks/cli' (seededRandom).
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { installKernels, type KernelOverride } from '@trainhooks/backend/internal';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { activeKernelPool, startKernelPool } from '../../packages/backend/src/wasm-threads/active-kernel-pool.js';

/** Largest relative error our kernels may have against the stock tfjs-cpu reference. */
export const KERNEL_TOLERANCE = 1e-4;

/** Uniform integer in [lo, hi] (both ends included) drawn from `random`. */
export const randomInt = (random: () => number, lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

/** One of `items`, chosen uniformly with `random`. */
export const randomPick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)];

/** Number of elements in a tensor of this shape (1 for a scalar). */
export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** `count` float32 values uniform in [-1, 1) drawn from `random`. */
export const randomValues = (random: () => number, count: number): Float32Array =>
  Float32Array.from({ length: count }, () => random() * 2 - 1);

/** max|ours − ref| / max(1, max|ref|), Infinity if any difference is NaN; expects equal lengths. */
export function maxRelativeError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(ours.length).toBe(ref.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

/** Asserts that `ours` is within KERNEL_TOLERANCE (relative error) of the reference values `ref`. */
export function expectWithinTolerance(ours: ArrayLike<number>, ref: ArrayLike<number>, label?: string): void {
  expect(maxRelativeError(ours, ref), label).toBeLessThanOrEqual(KERNEL_TOLERANCE);
}

/** Every padding a tfjs conv accepts: 'same', 'valid', a number, or explicit [[0, 0], [top, bottom], [left, right], [0, 0]]. */
export type ConvPadding = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** What runOnBackend reads back from a tensor. */
export interface BackendResult {
  shape: number[];
  dtype: tf.DataType;
  data: Float32Array | Int32Array | Uint8Array;
}

/** Switches to `backend`, runs f there and reads its result; every tensor made inside is freed. */
export async function runOnBackend(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<BackendResult> {
  await tf.setBackend(backend);
  // The threaded pass of `npm test` (TRAINHOOKS_WASM_THREADS, test/setup/wasm-threads.ts) must really compute with its threads.
  if (backend === 'wasm') expect(getThreadsCount(), 'wasm threads').toBe(Number(process.env.TRAINHOOKS_WASM_THREADS ?? 1));
  const out = tf.tidy(f);
  const result = { shape: out.shape, dtype: out.dtype, data: out.dataSync() as BackendResult['data'] };
  out.dispose();
  return result;
}

/** Runs f on stock cpu and on wasm with our kernels: shapes equal, values within KERNEL_TOLERANCE. */
export async function expectWasmMatchesCpu(label: string, f: () => tf.Tensor): Promise<void> {
  const ref = await runOnBackend('cpu', f);
  const ours = await runOnBackend('wasm', f);
  expect(ours.shape, label).toEqual(ref.shape);
  expectWithinTolerance(ours.data, ref.data, label);
}

/** Tensors on the wasm backend (data ids, which also counts what kernels leak internally). */
export const wasmDataIdCount = (): number => tf.findBackend('wasm')!.numDataIds();

/**
 * Makes `backend` current (initialising it) and installs our kernels over its stock ones; on wasm, with
 * the kernel pool setupBackend would start (its helpers in the threaded pass, none otherwise).
 */
export async function useBackendWithKernels(backend: 'cpu' | 'wasm', kernels: readonly KernelOverride[]): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  installKernels(kernels);
  if (backend === 'wasm' && !activeKernelPool()) startKernelPool(tf.backend(), getThreadsCount());
}
