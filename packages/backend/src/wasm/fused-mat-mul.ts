// wasm _FusedMatMul (matmul + bias + activation) without the slow path.
//
// Stock wasm has the same XNNPACK-or-scalar-loop split as BatchMatMul (XNNPACK only untransposed with
// batch 1), and its loop adds the bias wrongly (every row after the first gets the last bias element),
// and a bias of size 1 is read out of bounds on the XNNPACK path. We transpose explicitly and call the
// stock fused kernel when XNNPACK will take it with a per-column bias; otherwise we compose our matmul
// with the Add and activation kernels.
import * as tf from '@tensorflow/tfjs-core';
import { _FusedMatMul, util } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { runScoped, type KernelScope } from '../kernel-scope.js';
import { matMulShapes, rowMajor3d, wasmBatchMatMul } from './batch-mat-mul.js';
import type { KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

interface FusedAttrs {
  transposeA?: boolean;
  transposeB?: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

/** Applies a fusable activation with the backend's own kernels; the result is owned by `scope` (x itself for linear). */
function activate(
  scope: KernelScope,
  x: tf.TensorInfo,
  activation: string,
  preluWeights: tf.TensorInfo | undefined,
  leakyreluAlpha: number,
): tf.TensorInfo {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return scope.run('Relu', { x });
    case 'relu6':
      return scope.run('Relu6', { x });
    case 'elu':
      return scope.run('Elu', { x });
    case 'sigmoid':
      return scope.run('Sigmoid', { x });
    case 'leakyrelu':
      return scope.run('LeakyRelu', { x }, { alpha: leakyreluAlpha });
    case 'prelu':
      if (!preluWeights) throw new Error('_FusedMatMul: prelu activation needs preluActivationWeights');
      return scope.run('Prelu', { x, alpha: preluWeights });
    default:
      throw new Error(`_FusedMatMul: activation '${activation}' is not supported on wasm`);
  }
}

function fusedMatMul({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { a, b, bias, preluActivationWeights } = inputs as {
    a: tf.TensorInfo;
    b: tf.TensorInfo;
    bias?: tf.TensorInfo;
    preluActivationWeights?: tf.TensorInfo;
  };
  const { transposeA = false, transposeB = false, activation = 'linear', leakyreluAlpha = 0.2 } = attrs as FusedAttrs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    return callStockKernel(_FusedMatMul, backend, WASM, inputs, attrs);
  }
  const shapes = matMulShapes(a, b, transposeA, transposeB);
  const { m, k, n, outShape } = shapes;
  const batchB = util.sizeFromShape(shapes.batchB);
  const columnBias = bias == null || (bias.shape.length === 1 && bias.shape[0] === n);
  const preluChannels = preluActivationWeights == null || util.sizeFromShape(preluActivationWeights.shape) === n;
  const stockFusable = batchB === 1 && columnBias && preluChannels && k > 0 && util.sizeFromShape(outShape) > 0;

  if (stockFusable) {
    // One XNNPACK matmul of [bA*M, K] x [K, N] with bias and activation fused.
    return runScoped(backend, WASM, (scope) => {
      const a3 = rowMajor3d(scope, a, transposeA);
      const b3 = rowMajor3d(scope, b, transposeB);
      const fusedInputs: tf.NamedTensorInfoMap = { a: scope.reshape(a3, [1, a3.shape[0] * m, k]), b: b3 };
      if (bias) fusedInputs.bias = bias;
      if (preluActivationWeights) fusedInputs.preluActivationWeights = preluActivationWeights;
      const out = scope.runStock(_FusedMatMul, fusedInputs, {
        transposeA: false,
        transposeB: false,
        activation,
        leakyreluAlpha,
      });
      return scope.reshape(out, outShape);
    });
  }

  // Unfused: our matmul, then the bias (any broadcastable shape) and the activation as kernels.
  return runScoped(backend, WASM, (scope) => {
    // The bare product is freed once the bias is added.
    const x = scope.scoped((s) => {
      const product = wasmBatchMatMul(s, a, b, transposeA, transposeB);
      return bias ? s.run('Add', { a: product, b: bias }) : product;
    });
    return activate(scope, x, activation, preluActivationWeights, leakyreluAlpha);
  });
}

export const wasmFusedMatMulKernel: KernelOverride = {
  kernelName: _FusedMatMul,
  backendName: WASM,
  kernelFunc: fusedMatMul as tf.KernelFunc,
};
