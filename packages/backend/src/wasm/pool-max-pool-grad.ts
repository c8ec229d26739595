// MaxPoolGrad on the kernel pool (max-pool-grad-wat.ts): NHWC float32 with channels in multiples of 4,
// four channels per SIMD compare; the largest split by images over the pool's threads. Null when the
// pool is absent or the case is not one it handles (the JavaScript one-pass kernel takes it).
import type * as tf from '@tensorflow/tfjs-core';
import type { backend_util } from '@tensorflow/tfjs-core';
import { memoryOffset, runPoolCall, withParamBlock, type WasmHeap, type WasmMemoryBackend } from './kernel-utils.js';
import { splitCall, type KernelPool } from '../wasm-threads/kernel-pool.js';
import { MAX_POOL_GRAD_FUNCTION } from '../wasm-threads/max-pool-grad-wat.js';

export function poolMaxPoolGrad(pool: KernelPool | null, x: tf.TensorInfo, dy: tf.TensorInfo, info: backend_util.Conv2DInfo, backend: tf.KernelBackend): tf.TensorInfo | null {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  if (!pool || inChannels % 4 !== 0) return null;
  const heap = backend as unknown as WasmMemoryBackend & WasmHeap;
  // In MAX_POOL_GRAD_PARAMS order.
  const params = [inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo.top, padInfo.left];
  return withParamBlock(heap, params, (paramsAt) => {
    const out = heap.makeOutput([...x.shape], 'float32');
    const [xAt, dyAt, outAt] = [x, dy, out].map((tensor) => memoryOffset(heap, tensor));
    const threads = Math.min(pool.partsFor(batchSize * inHeight * inWidth * inChannels), batchSize);
    const parts = splitCall(batchSize, threads, 1, (first, end) => [xAt, dyAt, outAt, first, end, paramsAt]);
    return runPoolCall(pool, MAX_POOL_GRAD_FUNCTION, parts, heap, out) ? out : null;
  });
}
