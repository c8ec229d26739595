// wasm Mean over leading axes as one global average pool (see sum.ts).
//
// Same story as Sum: stock transposes non-innermost axes innermost first. BatchNormalization's moments in
// training take means of NHWC activations over [0, 1, 2], twice per layer per step.
import * as tf from '@tensorflow/tfjs-core';
import { Mean } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';
import type { KernelArgs } from './kernel-utils.js';
import { fastLeadingAxes, meanLeadingAxes, reducedShape } from './sum.js';

const WASM = 'wasm';

function mean({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const { axis, keepDims = false } = attrs as { axis: number | number[]; keepDims?: boolean };
  const k = fastLeadingAxes(x, axis);
  if (k === 0) return callStockKernel(Mean, backend, WASM, inputs, attrs);
  return runScoped(backend, WASM, (scope) => meanLeadingAxes(scope, x, k, reducedShape(x.shape, k, keepDims)));
}

export const wasmMeanKernel: KernelOverride = {
  kernelName: Mean,
  backendName: WASM,
  kernelFunc: mean as tf.KernelFunc,
};
