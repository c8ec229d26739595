// Small helpers shared by our wasm kernels.
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelScope } from '../kernel-scope.js';
import type { CallArguments, KernelPool } from '../wasm-threads/kernel-pool.js';

/** The parts of the wasm backend that kernels use to address its heap. */
export interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** What kernels that address tensors by their byte offset in the wasm memory use (the kernel pool's). */
export interface WasmMemoryBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): void;
}

/**
 * Entry i of x3 = [batch, rows, cols] as a new [1, rows, cols] tensor owned by `scope`: one contiguous
 * heap copy. (The Slice kernel copies the whole tensor out of the heap first; Gather copies element by
 * element.)
 */
export function batchEntry(scope: KernelScope, x3: tf.TensorInfo, i: number): tf.TensorInfo {
  const heap = scope.backend as unknown as WasmHeap;
  const [, rows, cols] = x3.shape;
  const size = rows * cols;
  const out = scope.adopt(heap.makeOutput([1, rows, cols], x3.dtype));
  // Views only after the allocation: growing the wasm memory detaches earlier ones.
  const src = heap.typedArrayFromHeap({ ...x3, shape: [x3.shape[0] * size] });
  heap.typedArrayFromHeap(out).set(src.subarray(i * size, (i + 1) * size));
  return out;
}

/** What tfjs passes a kernel function, with the backend typed (tfjs types it as `{}`). */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}

/** Where `info`'s data starts in the wasm memory, in bytes. */
export function memoryOffset(heap: WasmMemoryBackend, info: tf.TensorInfo): number {
  return heap.dataIdMap.get(info.dataId).memoryOffset;
}

/**
 * Strides of a transpose of `shape` by `perm`, per input axis: in the input, and where that axis lands in
 * the output (as an output stride).
 */
export function transposeStrides(shape: readonly number[], perm: readonly number[]): { inStrides: number[]; outStrideOf: number[] } {
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  for (let axis = rank - 1, stride = 1; axis >= 0; stride *= shape[axis]!, axis--) inStrides[axis] = stride;
  const outStrideOf = new Array<number>(rank);
  for (let j = rank - 1, stride = 1; j >= 0; stride *= shape[perm[j]!]!, j--) outStrideOf[perm[j]!] = stride;
  return { inStrides, outStrideOf };
}

/**
 * Runs a kernel pool call that writes `out`. If the pool fails (it then stops itself), frees `out` (when
 * given), warns and returns false: the kernel goes back to what it did without the pool, now and later.
 */
export function runPoolCall(pool: KernelPool, name: string, parts: readonly CallArguments[], heap?: WasmMemoryBackend, out?: tf.TensorInfo): boolean {
  try {
    pool.run(name, parts);
    return true;
  } catch (error) {
    if (heap && out) heap.disposeData(out.dataId);
    process.emitWarning(`trainhooks: the kernel pool stopped (${(error as Error).message}); its kernels run as they did without it`);
    return false;
  }
}

/**
 * Runs `body` with `values` in an int32 (or float32) block on the wasm heap, freed afterwards: for pool
 * functions that read more numbers than a call's arguments carry. The block's offset stays valid if the
 * memory grows.
 */
export function withParamBlock<T>(
  heap: WasmMemoryBackend & WasmHeap,
  values: readonly number[],
  body: (paramsAt: number) => T,
  dtype: 'int32' | 'float32' = 'int32',
): T {
  const params = heap.makeOutput([values.length], dtype);
  try {
    heap.typedArrayFromHeap(params).set(values);
    return body(memoryOffset(heap, params));
  } finally {
    heap.disposeData(params.dataId);
  }
}

/**
 * A new tensor on `x`'s data, no copy: tfjs tensors are immutable and backends never write into an
 * existing buffer, so outputs may share data (as tfjs-cpu's Identity and same-dtype Cast do); the
 * backend's reference count frees it when every tensor on it is gone.
 */
export function shareData(backend: tf.KernelBackend, x: tf.TensorInfo): tf.TensorInfo {
  (backend as unknown as { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}
