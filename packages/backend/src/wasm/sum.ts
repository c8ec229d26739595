// wasm Sum over leading axes as a global average pool.
//
// Stock wasm reduces only innermost axes: for any other axes it transposes them innermost first. Bias and
// BatchNormalization gradients sum NHWC tensors over [0, 1, 2], which costs a transpose plus a scalar
// reduction (2.6 ms for 64×28×28×16). Viewed as [1, R, 1, C], x's leading-axes mean is one XNNPACK
// average pool with an [R, 1] window (0.2 ms there); the sum is that mean times R. Innermost reductions
// stay on stock, which handles them well.
//
// XNNPACK splits a pool's work by output rows, and this pool has one: with threads, the rows are cut
// into one group per thread, pooled to [1, groups, 1, C] (one output row each, so every thread takes
// one), and the groups' means averaged — the same mean up to float rounding, as any reordered sum.
import * as tf from '@tensorflow/tfjs-core';
import { Sum, util } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { runScoped, type KernelScope } from '../kernel-scope.js';
import type { KernelArgs } from './kernel-utils.js';
import { activeKernelPool } from '../wasm-threads/active-kernel-pool.js';

const WASM = 'wasm';

/** k when `axis` names exactly the leading axes 0..k-1 of a rank-r shape, with 0 < k < r; else 0. */
export function leadingAxes(shape: number[], axis: number | number[] | undefined): number {
  const axes = [...new Set(util.parseAxisParam(axis ?? [], shape))].sort((p, q) => p - q);
  const k = axes.length;
  if (k === 0 || k >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? k : 0;
}

/** Below this many elements one thread pools the whole (a split would not pay for its second pool). */
export const SPLIT_MEAN_MIN_SIZE = 1 << 18;

/** Row groups for the threads: the thread count when it divides the rows and x is large enough, else 1. */
function rowGroups(rows: number, cols: number): number {
  const threads = activeKernelPool()?.threads ?? 1;
  return threads > 1 && rows % threads === 0 && rows * cols >= SPLIT_MEAN_MIN_SIZE ? threads : 1;
}

/** The mean over the k leading axes of float32 x, shaped `outShape`; a new TensorInfo owned by `scope`. */
export function meanLeadingAxes(scope: KernelScope, x: tf.TensorInfo, k: number, outShape: number[]): tf.TensorInfo {
  const rows = util.sizeFromShape(x.shape.slice(0, k));
  const cols = util.sizeFromShape(x.shape.slice(k));
  const groups = rowGroups(rows, cols);
  // The means of consecutive runs of `window` rows of a [1, rows, 1, cols] tensor.
  const meanOfRows = (s: KernelScope, t: tf.TensorInfo, window: number) =>
    window === 1 ? t : s.run('AvgPool', { x: t }, { filterSize: [window, 1], strides: [window, 1], pad: 'valid' });
  return scope.scoped((s) => {
    const x4 = s.run('Reshape', { x }, { shape: [1, rows, 1, cols] });
    const groupMeans = meanOfRows(s, x4, rows / groups);
    return s.run('Reshape', { x: meanOfRows(s, groupMeans, groups) }, { shape: outShape });
  });
}

/** The reduced shape, with or without the kept dims. */
export function reducedShape(shape: number[], k: number, keepDims: boolean): number[] {
  return keepDims ? [...new Array<number>(k).fill(1), ...shape.slice(k)] : shape.slice(k);
}

/** The float32 x whose leading-axes reduction we take over from stock, or 0 for stock. */
export function fastLeadingAxes(x: tf.TensorInfo, axis: number | number[] | undefined): number {
  return x.dtype === 'float32' && util.sizeFromShape(x.shape) > 0 ? leadingAxes(x.shape, axis) : 0;
}

function sum({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const { axis, keepDims = false } = attrs as { axis: number | number[]; keepDims?: boolean };
  const k = fastLeadingAxes(x, axis);
  if (k === 0) return callStockKernel(Sum, backend, WASM, inputs, attrs);
  return runScoped(backend, WASM, (scope) => {
    const mean = meanLeadingAxes(scope, x, k, reducedShape(x.shape, k, keepDims));
    const count = scope.run('Fill', {}, { shape: [], value: util.sizeFromShape(x.shape.slice(0, k)), dtype: 'float32' });
    return scope.run('Multiply', { a: mean, b: count });
  });
}

export const wasmSumKernel: KernelOverride = {
  kernelName: Sum,
  backendName: WASM,
  kernelFunc: sum as tf.KernelFunc,
};
