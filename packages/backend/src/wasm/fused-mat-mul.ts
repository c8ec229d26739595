// wasm _FusedMatMul (matmul + bias + activation) without the slow path.
//
// Stock wasm has the same XNNPACK-or-scalar-loop split as BatchMatMul (XNNPACK only untransposed with
// batch 1), and its loop adds the bias wrongly (every row after the first gets the last bias element),
// and a bias of size 1 is read out of bounds on the XNNPACK path. We transpose explicitly and call the
// stock fused kernel when XNNPACK will take it with a per-column bias; otherwise we compose our matmul
// with the Add and activation kernels.
import * as tf from '@tensorflow/tfjs-core';
import { _FusedMatMul, util } from '@tensorflow/tfjs-core';
import { callKernel, callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { matMulShapes, reshapeInfo, rowMajor3d, wasmBatchMatMul } from './batch-mat-mul.js';
import { disposeAll as dispose, type KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

interface FusedAttrs {
  transposeA?: boolean;
  transposeB?: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

/** Applies a fusable activation with the backend's own kernels; returns a new TensorInfo. */
function activate(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  activation: string,
  preluWeights: tf.TensorInfo | undefined,
  leakyreluAlpha: number,
): tf.TensorInfo {
  switch (activation) {
    case 'linear':
      return reshapeInfo(backend, x, x.shape);
    case 'relu':
      return callKernel('Relu', backend, WASM, { x });
    case 'relu6':
      return callKernel('Relu6', backend, WASM, { x });
    case 'elu':
      return callKernel('Elu', backend, WASM, { x });
    case 'sigmoid':
      return callKernel('Sigmoid', backend, WASM, { x });
    case 'leakyrelu':
      return callKernel('LeakyRelu', backend, WASM, { x }, { alpha: leakyreluAlpha });
    case 'prelu':
      if (!preluWeights) throw new Error('_FusedMatMul: prelu activation needs preluActivationWeights');
      return callKernel('Prelu', backend, WASM, { x, alpha: preluWeights });
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
    const a3 = rowMajor3d(backend, a, transposeA);
    const b3 = rowMajor3d(backend, b, transposeB);
    const a2 = reshapeInfo(backend, a3, [1, a3.shape[0] * m, k]);
    dispose(backend, a3);
    const fusedInputs: tf.NamedTensorInfoMap = { a: a2, b: b3 };
    if (bias) fusedInputs.bias = bias;
    if (preluActivationWeights) fusedInputs.preluActivationWeights = preluActivationWeights;
    let out: tf.TensorInfo;
    try {
      out = callStockKernel(_FusedMatMul, backend, WASM, fusedInputs, {
        transposeA: false,
        transposeB: false,
        activation,
        leakyreluAlpha,
      });
    } finally {
      dispose(backend, a2, b3);
    }
    const r = reshapeInfo(backend, out, outShape);
    dispose(backend, out);
    return r;
  }

  // Unfused: our matmul, then the bias (any broadcastable shape) and the activation as kernels.
  let x = wasmBatchMatMul(backend, a, b, transposeA, transposeB);
  if (bias) {
    const sum = callKernel('Add', backend, WASM, { a: x, b: bias });
    dispose(backend, x);
    x = sum;
  }
  const out = activate(backend, x, activation, preluActivationWeights, leakyreluAlpha);
  dispose(backend, x);
  return out;
}

export const wasmFusedMatMulKernel: KernelOverride = {
  kernelName: _FusedMatMul,
  backendName: WASM,
  kernelFunc: fusedMatMul as tf.KernelFunc,
};
