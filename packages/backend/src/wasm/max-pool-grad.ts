// wasm MaxPoolGrad: one pass over x and dy — on the kernel pool with channels in multiples of 4
// (pool-max-pool-grad.ts: SIMD wasm, split by images over its threads), in JavaScript on the wasm heap
// otherwise. Both follow the rule below.
//
// Stock wasm re-finds every window's maximum and then, for every input pixel, scans all windows that might
// hold it: 28 ms for a 64×24×24×32 input. It also breaks ties towards the last maximum and sends the
// gradient of an all-negative window to the tensor's first element (its running max starts at the smallest
// positive float). Here every window finds its maximum once, channels side by side (NHWC keeps them
// contiguous), and adds its dy to that input pixel — tfjs-cpu's rule exactly: the first pixel in scan order
// that is strictly greater than all before it, starting from −Infinity, so NaN is never chosen and a window
// of −Infinity / NaN only passes no gradient. Windows are visited in tfjs-cpu's order, so where windows
// overlap the sums are added in the same order too.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, MaxPoolGrad, util } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import type { KernelArgs, WasmHeap } from './kernel-utils.js';
import { activeKernelPool } from '../wasm-threads/active-kernel-pool.js';
import { poolMaxPoolGrad } from './pool-max-pool-grad.js';

const WASM = 'wasm';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** dx (zeroed by the caller) += each window's dy at its maximum, for NHWC x, dy of a 2-D max pool. */
export function scatterMaxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const maxValue = new Float64Array(channels);
  const maxIndex = new Int32Array(channels);
  const rowStride = inWidth * channels;
  let dyIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    const batchBase = b * inHeight * rowStride;
    for (let yR = 0; yR < outHeight; yR++) {
      const rCorner = yR * strideHeight - top;
      const rMin = Math.max(0, rCorner);
      const rMax = Math.min(inHeight, rCorner + filterHeight);
      for (let yC = 0; yC < outWidth; yC++, dyIndex += channels) {
        const cCorner = yC * strideWidth - left;
        const cMin = Math.max(0, cCorner);
        const cMax = Math.min(inWidth, cCorner + filterWidth);
        maxValue.fill(-Infinity);
        maxIndex.fill(-1);
        for (let r = rMin; r < rMax; r++) {
          for (let c = cMin; c < cMax; c++) {
            const pixel = batchBase + r * rowStride + c * channels;
            for (let d = 0; d < channels; d++) {
              const value = x[pixel + d]!;
              if (value > maxValue[d]!) {
                maxValue[d] = value;
                maxIndex[d] = pixel + d;
              }
            }
          }
        }
        for (let d = 0; d < channels; d++) {
          const at = maxIndex[d]!;
          if (at >= 0) dx[at] = dx[at]! + dy[dyIndex + d]!;
        }
      }
    }
  }
}

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32' || util.sizeFromShape(input.shape) === 0) {
    return callStockKernel(MaxPoolGrad, backend, WASM, inputs, attrs);
  }
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const pooled = poolMaxPoolGrad(activeKernelPool(), input, dy, info, backend);
  if (pooled) return pooled;
  const heap = backend as unknown as WasmHeap;
  const out = heap.makeOutput([...input.shape], 'float32');
  // Views only after the allocation: growing the wasm memory detaches earlier ones.
  const dx = heap.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  scatterMaxPoolGrad(heap.typedArrayFromHeap(input) as Float32Array, heap.typedArrayFromHeap(dy) as Float32Array, dx, info);
  return out;
}

export const wasmMaxPoolGradKernel: KernelOverride = {
  kernelName: MaxPoolGrad,
  backendName: WASM,
  kernelFunc: maxPoolGrad as tf.KernelFunc,
};
