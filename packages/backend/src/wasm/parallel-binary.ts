// Add, Sub, Multiply and RealDiv of float32 tensors as the kernel pool's SIMD wasm: the same shape, a
// tensor and a scalar, or a tensor and a per-channel vector (bias, BatchNormalization, the optimizers'
// updates); the largest split by elements or rows over its threads. Anything else — and any output
// too small for a call into the pool to pay — returns null and goes to the kernels it went to before.
import type * as tf from '@tensorflow/tfjs-core';
import { Add, backend_util, Multiply, RealDiv, Sub, util } from '@tensorflow/tfjs-core';
import { memoryOffset, runPoolCall, type WasmMemoryBackend } from './kernel-utils.js';
import { splitCall, type CallArguments, type KernelPool } from '../wasm-threads/kernel-pool.js';
import { elementwiseFunctionName, type ElementwiseLayout, type ElementwiseOp } from '../wasm-threads/elementwise-wat.js';
import { isChannelVector } from './channel-broadcast.js';

/** Smaller outputs stay on the stock kernels (a call into the pool costs a few microseconds). */
export const PARALLEL_BINARY_MIN_SIZE = 32768;

const OPS: Record<string, ElementwiseOp> = { [Multiply]: 'mul', [Add]: 'add', [Sub]: 'sub', [RealDiv]: 'div' };

export function parallelBinary(pool: KernelPool | null, kernelName: string, a: tf.TensorInfo, b: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo | null {
  const op = OPS[kernelName];
  if (!pool || !op || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const size = util.sizeFromShape(outShape);
  if (size < PARALLEL_BINARY_MIN_SIZE) return null;
  const [sizeA, sizeB] = [util.sizeFromShape(a.shape), util.sizeFromShape(b.shape)];

  let layout: ElementwiseLayout;
  let x = a;
  let other = b;
  if (util.arraysEqual(a.shape, b.shape)) layout = 'same';
  else if (sizeB === 1 && sizeA === size) layout = 'scalar';
  else if (sizeA === 1 && sizeB === size) [layout, x, other] = ['scalarFirst', b, a];
  else if (isChannelVector(b, a) && sizeA === size) layout = 'row';
  else if (isChannelVector(a, b) && sizeB === size) [layout, x, other] = ['rowFirst', b, a];
  else return null;

  const heap = backend as unknown as WasmMemoryBackend;
  const out = heap.makeOutput(outShape, 'float32');
  const [xAt, otherAt, outAt] = [memoryOffset(heap, x), memoryOffset(heap, other), memoryOffset(heap, out)];
  const threads = pool.partsFor(size);
  let parts: CallArguments[];
  if (layout === 'row' || layout === 'rowFirst') {
    const run = other.shape[other.shape.length - 1]!;
    parts = splitCall(size / run, threads, 1, (first, end) => [xAt + 4 * first * run, otherAt, outAt + 4 * first * run, end - first, run]);
  } else {
    // Parts start on 16-byte boundaries, where the 4-lane loop begins.
    parts = splitCall(size, threads, 4, (first, end) => [xAt + 4 * first, layout === 'same' ? otherAt + 4 * first : otherAt, outAt + 4 * first, end - first, 0]);
  }
  return runPoolCall(pool, elementwiseFunctionName(op, layout), parts, heap, out) ? out : null;
}
