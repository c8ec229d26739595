// wasm Add, Sub, Multiply and RealDiv. With the kernel pool (setupBackend starts it), large same-shape,
// scalar and per-channel operands run as its SIMD kernels (parallel-binary.ts). Otherwise a tensor and a
// per-channel vector get the vector's rows folded long (see channel-broadcast.ts): bias,
// BatchNormalization and their gradients combine NHWC activations with [C] vectors many times a step. Any other operand shapes go to the stock kernel.
import type * as tf from '@tensorflow/tfjs-core';
import { Add, Multiply, RealDiv, Sub } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';
import { activeKernelPool } from '../wasm-threads/active-kernel-pool.js';
import { channelBinary, channelOperands } from './channel-broadcast.js';
import type { KernelArgs } from './kernel-utils.js';
import { parallelBinary } from './parallel-binary.js';

const WASM = 'wasm';

function binaryKernel(kernelName: typeof Add | typeof Sub | typeof Multiply | typeof RealDiv, { fold }: { fold: boolean }): KernelOverride {
  const kernelFunc = ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const parallel = parallelBinary(activeKernelPool(), kernelName, a, b, backend);
    if (parallel) return parallel;
    const channel = fold ? channelOperands(a, b) : null;
    if (!channel) return callStockKernel(kernelName, backend, WASM, inputs, attrs);
    return runScoped(backend, WASM, (scope) =>
      channelBinary(scope, kernelName, channel.x, channel.v, channel.vectorFirst, channel.fold),
    );
  };
  return { kernelName, backendName: WASM, kernelFunc: kernelFunc as tf.KernelFunc };
}

export const wasmAddKernel = binaryKernel(Add, { fold: true });
export const wasmSubKernel = binaryKernel(Sub, { fold: true });
export const wasmMultiplyKernel = binaryKernel(Multiply, { fold: true });
export const wasmRealDivKernel = binaryKernel(RealDiv, { fold: false });
