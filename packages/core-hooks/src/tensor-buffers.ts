// Moving float32 tensor values to and from a caller's buffer (an all-reduce bucket, a message) with as
// few copies as the backend allows. tfjs' own route costs more than the data: dataSync allocates a fresh
// array and copies into it, and tf.tensor keeps the caller's array by reference on the cpu backend, so a
// reused buffer must be sliced first. The wasm backend addresses its heap directly: one copy each way.
import * as tf from '@tensorflow/tfjs-core';

/** The wasm backend's view of a tensor's memory (tfjs-backend-wasm's `typedArrayFromHeap`). */
interface HeapBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function heapBackend(): HeapBackend | null {
  const backend = tf.backend() as unknown as Partial<HeapBackend>;
  return typeof backend.typedArrayFromHeap === 'function' ? (backend as HeapBackend) : null;
}

/** Copies a float32 tensor's values into `target` from element `offset`: one copy on wasm, through dataSync elsewhere. */
export function readTensorInto(tensor: tf.Tensor, target: Float32Array, offset = 0): void {
  if (tensor.dtype !== 'float32') throw new Error(`readTensorInto: a float32 tensor is needed, not ${tensor.dtype}`);
  if (offset < 0 || offset + tensor.size > target.length) {
    throw new Error(`readTensorInto: ${tensor.size} values do not fit at offset ${offset} of a buffer of ${target.length}`);
  }
  const heap = heapBackend();
  // A view of the heap, used at once: a later allocation may grow the memory and detach it.
  target.set(heap ? (heap.typedArrayFromHeap(tensor) as Float32Array) : (tensor.dataSync() as Float32Array), offset);
}

/** A new float32 tensor holding a copy of `values`: the caller may overwrite `values` afterwards. */
export function tensorFromBuffer(values: Float32Array, shape: readonly number[]): tf.Tensor {
  // wasm copies into its heap on creation; other backends may keep the array itself.
  return tf.tensor(heapBackend() ? values : values.slice(), [...shape], 'float32');
}
