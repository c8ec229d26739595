// wasm Identity without the copy.
//
// Stock wasm copies the tensor (a training step of the reference ResNet makes ~460 such copies, 40 ms).
// tfjs tensors are immutable and backends never write into an existing buffer, so, as tfjs-cpu does, the
// output can share the input's data: the backend's reference count frees it when both are gone.
import * as tf from '@tensorflow/tfjs-core';
import { Identity } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { shareData, type KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

function identity({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return callStockKernel(Identity, backend, WASM, inputs, attrs);
  return shareData(backend, x);
}

export const wasmIdentityKernel: KernelOverride = {
  kernelName: Identity,
  backendName: WASM,
  kernelFunc: identity as tf.KernelFunc,
};
