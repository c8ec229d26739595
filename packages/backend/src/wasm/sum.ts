// wasm Sum over leading axes as a global average pool.
//
// Stock wasm reduces only innermost axes: for any other axes it transposes them innermost first. Bias and
// BatchNormalization gradients sum NHWC tensors over [0, 1, 2], which costs a transpose plus a scalar
// reduction (2.6 ms for 64×28×28×16). Viewed as [1, R, 1, C], x's leading-axes mean is one XNNPACK
// average pool with an [R, 1] window (0.2 ms there); the sum is that mean times R. Innermost reductions
// stay on stock, which handles them well.
import * as tf from '@tensorflow/tfjs-core';
import { Sum, util } from '@tensorflow/tfjs-core';
import { callKernel, callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { disposeAll, type KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

/** k when `axis` names exactly the leading axes 0..k-1 of a rank-r shape, with 0 < k < r; else 0. */
export function leadingAxes(shape: number[], axis: number | number[] | undefined): number {
  const axes = [...new Set(util.parseAxisParam(axis ?? [], shape))].sort((p, q) => p - q);
  const k = axes.length;
  if (k === 0 || k >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? k : 0;
}

/** The mean over the k leading axes of float32 x, shaped `outShape`; a new TensorInfo. */
export function meanLeadingAxes(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  k: number,
  outShape: number[],
): tf.TensorInfo {
  const rows = util.sizeFromShape(x.shape.slice(0, k));
  const cols = util.sizeFromShape(x.shape.slice(k));
  const x4 = callKernel('Reshape', backend, WASM, { x }, { shape: [1, rows, 1, cols] });
  if (rows === 1) {
    const out = callKernel('Reshape', backend, WASM, { x: x4 }, { shape: outShape });
    disposeAll(backend, x4);
    return out;
  }
  const pooled = callKernel('AvgPool', backend, WASM, { x: x4 }, { filterSize: [rows, 1], strides: [1, 1], pad: 'valid' });
  disposeAll(backend, x4);
  const out = callKernel('Reshape', backend, WASM, { x: pooled }, { shape: outShape });
  disposeAll(backend, pooled);
  return out;
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
  const mean = meanLeadingAxes(backend, x, k, reducedShape(x.shape, k, keepDims));
  const count = callKernel('Fill', backend, WASM, {}, {
    shape: [],
    value: util.sizeFromShape(x.shape.slice(0, k)),
    dtype: 'float32',
  });
  const out = callKernel('Multiply', backend, WASM, { a: mean, b: count });
  disposeAll(backend, mean, count);
  return out;
}

export const wasmSumKernel: KernelOverride = {
  kernelName: Sum,
  backendName: WASM,
  kernelFunc: sum as tf.KernelFunc,
};
