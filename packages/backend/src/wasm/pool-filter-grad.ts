// Conv2DBackpropFilter on the kernel pool (filter-grad-wat.ts): NHWC float32, dilation 1, output channels
// a multiple of 8 (the 4 × 8 tile where input channels are a multiple of 4, a one-row tile otherwise,
// such as a first layer on one-channel images). With threads the images are split: each thread sums
// its own into a partial dW (the caller's straight into the output, the helpers' into scratch), then
// the caller adds the partials. Null when the pool is absent or the case is not one it handles.
import type * as tf from '@tensorflow/tfjs-core';
import { memoryOffset, runPoolCall, withParamBlock, type WasmHeap, type WasmMemoryBackend } from './kernel-utils.js';
import type { ConvGeometry } from './conv-utils.js';
import { partRange, type CallArguments, type KernelPool } from '../wasm-threads/kernel-pool.js';
import { FILTER_GRAD_TILES, filterGradFunctionName } from '../wasm-threads/filter-grad-wat.js';

/** Below this many multiply-adds a call stays on one thread (waking a helper costs a few microseconds). */
export const FILTER_GRAD_SPLIT_MIN_MACS = 1 << 21;
/**
 * Bytes of x and dy per chunk of images: what stays in cache while every tile of dW takes its turn. In
 * practice one image per chunk for this project's models; on cnn and resnet shapes 32 KB measured as
 * fast as or faster than 128 KB – 1 MB (28–31 GFLOP/s on one thread of this machine).
 */
const CHUNK_BYTES = 32 * 1024;

export function poolFilterGrad(
  pool: KernelPool | null,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
  filterShape: readonly [number, number, number, number],
  backend: tf.KernelBackend,
): tf.TensorInfo | null {
  const [n, h, w, ci] = g.inShape;
  const [kh, kw, , co] = filterShape;
  const tile = FILTER_GRAD_TILES.find(({ rows, cols }) => ci % rows === 0 && co % cols === 0);
  if (!pool || !tile || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  if (g.dilations[0] !== 1 || g.dilations[1] !== 1) return null;
  const [oh, ow] = [g.outHeight, g.outWidth];
  const macs = n * oh * ow * kh * kw * ci * co;
  const threads = macs >= FILTER_GRAD_SPLIT_MIN_MACS ? Math.min(pool.threads, n) : 1;
  const filterSize = kh * kw * ci * co;
  const chunk = Math.max(1, Math.floor(CHUNK_BYTES / ((h * w * ci + oh * ow * co) * 4)));

  const heap = backend as unknown as WasmMemoryBackend & WasmHeap;
  // In FILTER_GRAD_PARAMS order.
  const params = [h, w, ci, oh, ow, co, kh, kw, g.strides[0], g.strides[1], g.padTop, g.padLeft, chunk];
  return withParamBlock(heap, params, (paramsAt) => {
    const out = heap.makeOutput([kh, kw, ci, co], 'float32');
    const partials = threads > 1 ? heap.makeOutput([(threads - 1) * filterSize], 'float32') : null;
    try {
      const [xAt, dyAt, outAt] = [x, dy, out].map((info) => memoryOffset(heap, info));
      const partialsAt = partials ? memoryOffset(heap, partials) : 0;
      const parts: CallArguments[] = [];
      for (let i = 0; i < threads; i++) {
        const [first, end] = partRange(n, threads, i, 1);
        const target = i === 0 ? outAt : partialsAt + 4 * (i - 1) * filterSize;
        parts.push([xAt, dyAt, target, first, end, paramsAt]);
      }
      if (!runPoolCall(pool, filterGradFunctionName(tile), parts, heap, out)) return null;
      if (partials) {
        // Views only after the allocations: growing the wasm memory detaches earlier ones.
        const sum = heap.typedArrayFromHeap(out) as Float32Array;
        const all = heap.typedArrayFromHeap(partials) as Float32Array;
        for (let offset = 0; offset < all.length; offset += filterSize) {
          for (let i = 0; i < filterSize; i++) sum[i] = sum[i]! + all[offset + i]!;
        }
      }
      return out;
    } finally {
      if (partials) heap.disposeData(partials.dataId);
    }
  });
}
