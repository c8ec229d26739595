// Transpose on the kernel pool (transpose-wat.ts): the two axes that trade the innermost place form an
// A × B matrix per index of the third (if any), copied in 4 × 4 SIMD blocks; for the largest, the
// matrices — or, with fewer of them than threads, the rows of A — are split over the threads. Null when
// the pool is absent, the elements are not 4 bytes, more than three axes remain after merging, or the
// tensor is small.
import type * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { memoryOffset, runPoolCall, transposeStrides, type WasmMemoryBackend } from './kernel-utils.js';
import { splitCall, type KernelPool } from '../wasm-threads/kernel-pool.js';
import { TRANSPOSE_FUNCTION } from '../wasm-threads/transpose-wat.js';

/** Smaller transposes stay in JavaScript (a call into the pool costs a few microseconds). */
export const POOL_TRANSPOSE_MIN_SIZE = 16384;

/**
 * `simple` is x's transpose with size-1 axes dropped and adjacent axes merged (simplifyTranspose); its
 * innermost axis moves.
 */
export function poolTranspose(
  pool: KernelPool | null,
  x: tf.TensorInfo,
  perm: readonly number[],
  simple: { shape: number[]; perm: number[] },
  backend: tf.KernelBackend,
): tf.TensorInfo | null {
  const rank = simple.shape.length;
  if (!pool || (x.dtype !== 'float32' && x.dtype !== 'int32') || rank > 3 || util.sizeFromShape(x.shape) < POOL_TRANSPOSE_MIN_SIZE) return null;
  const { inStrides, outStrideOf } = transposeStrides(simple.shape, simple.perm);
  const inner = rank - 1; // contiguous in x: the matrix's columns (B)
  const outInner = simple.perm[rank - 1]!; // contiguous in the output: its rows (A)
  const outerAxis = [0, 1, 2].find((axis) => axis < rank && axis !== inner && axis !== outInner);
  const [a, b] = [simple.shape[outInner]!, simple.shape[inner]!];
  const [xStride, outStride] = [inStrides[outInner]!, outStrideOf[inner]!];
  const outer = outerAxis === undefined ? 1 : simple.shape[outerAxis]!;
  const [xOuter, outOuter] = outerAxis === undefined ? [0, 0] : [inStrides[outerAxis]!, outStrideOf[outerAxis]!];

  const heap = backend as unknown as WasmMemoryBackend;
  const out = heap.makeOutput(perm.map((axis) => x.shape[axis]!), x.dtype);
  const [xAt, outAt] = [memoryOffset(heap, x), memoryOffset(heap, out)];
  const threads = pool.partsFor(util.sizeFromShape(x.shape));
  const parts =
    outer >= threads
      ? splitCall(outer, threads, 1, (first, end) => [xAt + 4 * first * xOuter, outAt + 4 * first * outOuter, a, b, xStride, outStride, end - first, xOuter, outOuter])
      : splitCall(a, threads, 4, (first, end) => [xAt + 4 * first * xStride, outAt + 4 * first, end - first, b, xStride, outStride, outer, xOuter, outOuter]);
  return runPoolCall(pool, TRANSPOSE_FUNCTION, parts, heap, out) ? out : null;
}
