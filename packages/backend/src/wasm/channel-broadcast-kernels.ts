// wasm Add, Sub and Multiply of a tensor and a per-channel vector, with the vector's rows folded long (see
// channel-broadcast.ts): bias, BatchNormalization and their gradients combine NHWC activations with [C]
// vectors many times a step. Any other operand shapes go to the stock kernel.
import type * as tf from '@tensorflow/tfjs-core';
import { Add, Multiply, Sub } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';
import { channelBinary, channelOperands } from './channel-broadcast.js';
import type { KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

function channelBroadcastKernel(kernelName: typeof Add | typeof Sub | typeof Multiply): KernelOverride {
  const kernelFunc = ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const channel = channelOperands(a, b);
    if (!channel) return callStockKernel(kernelName, backend, WASM, inputs, attrs);
    return runScoped(backend, WASM, (scope) =>
      channelBinary(scope, kernelName, channel.x, channel.v, channel.vectorFirst, channel.fold),
    );
  };
  return { kernelName, backendName: WASM, kernelFunc: kernelFunc as tf.KernelFunc };
}

export const wasmAddKernel = channelBroadcastKernel(Add);
export const wasmSubKernel = channelBroadcastKernel(Sub);
export const wasmMultiplyKernel = channelBroadcastKernel(Multiply);
