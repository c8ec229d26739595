// wasm MaxPoolGrad for pools whose windows do not overlap (strides ≥ window, e.g. the usual 2×2 / 2).
//
// Stock wasm re-finds every window's maximum and then, for every input pixel, scans all windows that might
// hold it: 28 ms for a 64×24×24×32 input. It also breaks ties towards the last maximum and sends the
// gradient of an all-negative window to the tensor's first element (its running max starts at the smallest
// positive float), where tfjs-cpu takes the first maximum in scan order. With disjoint windows each input
// pixel has at most one window, so we lay x out offset by offset ([sh·sw, windows], two transposes), give each
// window's dy to the first offset that holds its maximum (the pooled output), and transpose back. Where a
// window holds ±Infinity the difference y − x is NaN and so is that window's gradient (tfjs-cpu routes
// +Infinity's and drops all −Infinity windows); stock wasm is not right there either.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, MaxPoolGrad, util } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';
import { batchEntry, type KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, input, output } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo; output: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Windows at least a stride apart do not overlap: each owns an sh × sw block of the padded input (its
  // fh × fw window first, then the gap). The extent those blocks tile, and how much of x lies inside it.
  const tiledH = oh * sh;
  const tiledW = ow * sw;
  const usedH = Math.min(h, tiledH - top);
  const usedW = Math.min(w, tiledW - left);
  const disjoint = sh >= fh && sw >= fw;
  if (
    !disjoint ||
    input.dtype !== 'float32' ||
    output == null ||
    usedH <= 0 ||
    usedW <= 0 ||
    top < 0 ||
    left < 0 ||
    util.sizeFromShape(input.shape) === 0 ||
    util.sizeFromShape(dy.shape) === 0
  ) {
    return callStockKernel(MaxPoolGrad, backend, WASM, inputs, attrs);
  }

  return runScoped(backend, WASM, (scope) => {
    const reshape = (x: tf.TensorInfo, shape: number[]) => scope.run('Reshape', { x }, { shape });
    const transpose = (x: tf.TensorInfo, shape: number[], perm: number[]) =>
      scope.run('Transpose', { x: reshape(x, shape) }, { perm });
    // x cut to the part the blocks cover, padded with -inf to exactly [n, oh·sh, ow·sw, c].
    let x = input;
    if (usedH < h || usedW < w) x = scope.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [n, usedH, usedW, c] });
    const padBottom = tiledH - top - usedH;
    const padRight = tiledW - left - usedW;
    if (top || left || padBottom || padRight) {
      const paddings = [[0, 0], [top, padBottom], [left, padRight], [0, 0]];
      x = scope.run('PadV2', { x }, { paddings, constantValue: -Infinity });
    }

    // [n, oh, sh, ow, sw, c] → [sh·sw, n·oh·ow·c]: one contiguous run per offset in the block, by two
    // transposes of rank ≤ 4 (wasm's higher-rank transpose is ~100x slower).
    const windows = n * oh * ow * c;
    const offsetRowsFirst = transpose(x, [n * oh, sh, ow, sw * c], [1, 0, 2, 3]);
    const byOffset = transpose(offsetRowsFirst, [sh, n * oh * ow, sw, c], [0, 2, 1, 3]);
    const blocks = reshape(byOffset, [sh * sw, 1, windows]);
    const y = reshape(output, [1, 1, windows]);
    const g = reshape(dy, [1, 1, windows]);
    // Walking the offsets in order, a window's first maximum takes its dy: with free = 1 until a window has
    // been served, below = step(y − x_k) (1 where x_k is not the maximum), first = relu(free − below).
    // All same-shape float kernels, the fast ones on wasm (its compare and select kernels are ~15x slower).
    let free = scope.run('Fill', {}, { shape: [1, 1, windows], value: 1, dtype: 'float32' });
    const gap = scope.run('Fill', {}, { shape: [1, 1, windows], value: 0, dtype: 'float32' });
    const parts: tf.TensorInfo[] = new Array<tf.TensorInfo>(sh * sw).fill(gap);
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const xk = batchEntry(scope, blocks, i * sw + j);
        const below = scope.run('Step', { x: scope.run('Sub', { a: y, b: xk }) }, { alpha: 0 });
        const first = scope.run('Relu', { x: scope.run('Sub', { a: free, b: below }) });
        free = scope.run('Sub', { a: free, b: first });
        parts[i * sw + j] = scope.run('Multiply', { a: first, b: g });
      }
    }
    // And back: [sh, sw, n·oh·ow, c] → [sh, n·oh·ow, sw, c] → [n·oh, sh, ow, sw·c] = [n, oh·sh, ow·sw, c].
    const stacked = scope.run('Concat', parts as unknown as tf.NamedTensorInfoMap, { axis: 0 });
    const back = transpose(stacked, [sh, sw, n * oh * ow, c], [0, 2, 1, 3]);
    const interleaved = transpose(back, [sh, n * oh, ow, sw * c], [1, 0, 2, 3]);
    let dx = reshape(interleaved, [n, tiledH, tiledW, c]);
    if (top || left || padBottom || padRight) {
      dx = scope.run('Slice', { x: dx }, { begin: [0, top, left, 0], size: [n, usedH, usedW, c] });
    }
    if (usedH < h || usedW < w) {
      dx = scope.run('PadV2', { x: dx }, { paddings: [[0, 0], [0, h - usedH], [0, w - usedW], [0, 0]], constantValue: 0 });
    }
    return dx;
  });
}

export const wasmMaxPoolGradKernel: KernelOverride = {
  kernelName: MaxPoolGrad,
  backendName: WASM,
  kernelFunc: maxPoolGrad as tf.KernelFunc,
};
