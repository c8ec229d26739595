// wasm Multiply of a tensor and a per-channel vector with the vector's rows folded long (see channel-broadcast.ts):
// bias, BatchNormalization and their gradients combine NHWC activations with [C] vectors many times a step.
import * as tf from '@tensorflow/tfjs-core';
import { Multiply } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { channelBinary, channelOperands } from './channel-broadcast.js';
import { forwardSetup, type KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

function multiply({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const channel = channelOperands(a, b);
  if (!channel) return callStockKernel(Multiply, backend, WASM, inputs, attrs);
  return channelBinary(backend, Multiply, channel.x, channel.v, channel.vectorFirst, channel.fold);
}

export const wasmMultiplyKernel: KernelOverride = {
  kernelName: Multiply,
  backendName: WASM,
  kernelFunc: multiply as tf.KernelFunc,
  ...forwardSetup(Multiply),
};
