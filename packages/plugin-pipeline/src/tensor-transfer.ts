import * as tf from '@tensorflow/tfjs-core';

/** A tensor as it crosses threads: its values in an ArrayBuffer that is transferred, never copied element-wise. */
export interface TransferredTensor {
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
  readonly values: Float32Array | Int32Array;
}

/** Reads a tensor into a buffer of its own (the backend's may be shared), ready to transfer. */
export function toTransfer(tensor: tf.Tensor): TransferredTensor {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') throw new Error(`plugin-pipeline: cannot move a ${tensor.dtype} tensor between stages`);
  const data = tensor.dataSync() as Float32Array | Int32Array;
  // The cpu backend hands out its own array: copy so the transfer cannot detach it.
  const values = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && tf.getBackend() !== 'cpu' ? data : data.slice();
  return { shape: [...tensor.shape], dtype: tensor.dtype, values };
}

export function fromTransfer(transferred: TransferredTensor): tf.Tensor {
  return tf.tensor(transferred.values, transferred.shape, transferred.dtype);
}

/** The buffers to list in postMessage's transfer list. */
export function buffersOf(tensors: readonly TransferredTensor[]): ArrayBuffer[] {
  return tensors.map((tensor) => tensor.values.buffer as ArrayBuffer);
}
