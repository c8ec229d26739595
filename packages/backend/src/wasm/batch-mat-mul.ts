// wasm BatchMatMul without the slow path.
//
// Stock tfjs-backend-wasm hands a matmul to XNNPACK only when neither operand is transposed and both
// have batch size 1; everything else (every backward matmul: x^T·dy, dy·W^T; every batched matmul) runs
// on a scalar triple loop ~15-25x slower. It also gets broadcast batch dimensions wrong. Here we
// transpose explicitly with the wasm Transpose kernel and shape the work so it lands on the XNNPACK
// path: one operand shared across the batch is folded into the other's rows or columns, and equal
// batches large enough to amortise the call run as one XNNPACK matmul per batch entry.
import * as tf from '@tensorflow/tfjs-core';
import { BatchMatMul, broadcast_util, util } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { runScoped, type KernelScope } from '../kernel-scope.js';
import { batchEntry, type KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

/**
 * Below this many multiply-adds per batch entry, a batched matmul of two full batches stays on the
 * stock loop: a slice, an XNNPACK operator (weights packing included) and a concat per entry cost more.
 */
export const PER_ENTRY_XNNPACK_MIN_MACS = 65536;

/** Shapes of a batched matmul: a = [...batchA, M, K] (or K, M), b = [...batchB, K, N] (or N, K). */
export interface MatMulShapes {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly batchA: number[];
  readonly batchB: number[];
  readonly outBatch: number[];
  readonly outShape: number[];
}

export function matMulShapes(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): MatMulShapes {
  const ra = a.shape.length;
  const rb = b.shape.length;
  util.assert(ra >= 2 && rb >= 2, () => `BatchMatMul needs rank >= 2, got ${a.shape} and ${b.shape}`);
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const ka = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  util.assert(
    ka === kb,
    () =>
      `Error in matMul: inner shapes (${ka}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} ` +
      `and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
  );
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const outBatch = broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  return { m, k: ka, n, batchA, batchB, outBatch, outShape: [...outBatch, m, n] };
}

/**
 * x ([...batch, rows, cols]) as a [batchSize, rows, cols] tensor, transposed in its last two dims when
 * `transpose`: owned by `scope`, or x itself when it already is that.
 */
export function rowMajor3d(scope: KernelScope, x: tf.TensorInfo, transpose: boolean): tf.TensorInfo {
  const r = x.shape.length;
  const rows = x.shape[r - 2];
  const cols = x.shape[r - 1];
  return scope.scoped((s) => {
    const x3 = s.reshape(x, [util.sizeFromShape(x.shape.slice(0, -2)), rows, cols]);
    return transpose ? s.run('Transpose', { x: x3 }, { perm: [0, 2, 1] }) : x3;
  });
}

/** Tiles x = [...batch, r, c] (batch broadcastable to outBatch) to [size(outBatch), r, c]. */
function broadcastBatch(scope: KernelScope, x3: tf.TensorInfo, batch: number[], outBatch: number[]): tf.TensorInfo {
  const padded = [...new Array<number>(outBatch.length - batch.length).fill(1), ...batch];
  const [rows, cols] = x3.shape.slice(-2);
  const reps = [...outBatch.map((d, i) => (padded[i] === d ? 1 : d)), 1, 1];
  return scope.scoped((s) => {
    const tiled = s.run('Tile', { x: s.reshape(x3, [...padded, rows, cols]) }, { reps });
    return s.reshape(tiled, [util.sizeFromShape(outBatch), rows, cols]);
  });
}

/** Stock matmul of untransposed [1, M, K] x [1, K, N]: XNNPACK. */
function stockMatMul(scope: KernelScope, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  return scope.runStock(BatchMatMul, { a, b }, { transposeA: false, transposeB: false });
}

/**
 * The product of a3 = [bA, M, K] and b3 = [bB, K, N] (untransposed, batches broadcast to outBatch),
 * shaped [size(outBatch), M, N] and owned by `scope`.
 */
export function matMul3d(scope: KernelScope, a3: tf.TensorInfo, b3: tf.TensorInfo, shapes: MatMulShapes): tf.TensorInfo {
  const { m, k, n, batchA, batchB, outBatch } = shapes;
  const bA = a3.shape[0];
  const bB = b3.shape[0];
  const batch = util.sizeFromShape(outBatch);

  return scope.scoped((s) => {
    if (bB === 1) {
      // b shared: fold a's batch into its rows, one [bA*M, K] x [K, N] matmul.
      return s.reshape(stockMatMul(s, s.reshape(a3, [1, bA * m, k]), b3), [batch, m, n]);
    }
    if (bA === 1) {
      // a shared: fold b's batch into its columns, [M, K] x [K, bB*N], then move the batch back in front.
      // b's transposed copy is freed as soon as the product is made.
      const prod = s.scoped((product) => {
        const bt = product.run('Transpose', { x: b3 }, { perm: [1, 0, 2] });
        return stockMatMul(product, a3, product.reshape(bt, [1, k, bB * n]));
      });
      return s.run('Transpose', { x: s.reshape(prod, [m, bB, n]) }, { perm: [1, 0, 2] });
    }
    // Both batched: make both full (general broadcasting), then per entry or on the stock loop.
    const aFull = bA === batch ? a3 : broadcastBatch(s, a3, batchA, outBatch);
    const bFull = bB === batch ? b3 : broadcastBatch(s, b3, batchB, outBatch);
    if (m * k * n < PER_ENTRY_XNNPACK_MIN_MACS) {
      // Small entries: the stock loop is correct for equal batches and cheaper than per-entry calls.
      return s.runStock(BatchMatMul, { a: aFull, b: bFull }, { transposeA: false, transposeB: false });
    }
    // One XNNPACK matmul per entry, each entry's copies freed before the next.
    const parts: tf.TensorInfo[] = [];
    for (let i = 0; i < batch; i++) {
      parts.push(s.scoped((entry) => stockMatMul(entry, batchEntry(entry, aFull, i), batchEntry(entry, bFull, i))));
    }
    // Concat copies (even a single part), so the parts are always ours to free.
    return s.run('Concat', parts as unknown as tf.NamedTensorInfoMap, { axis: 0 });
  });
}

/**
 * Whether an unbatched product should run as (bᵀ·aᵀ)ᵀ. XNNPACK packs its right operand (the "weights") on
 * every call with a new tensor, so a product costs, in elements moved besides the FLOPs: directly, the
 * transposes of transposed operands plus packing b; the other way round, transposing a and b where they are
 * not transposed already, packing aᵀ and transposing the result. dy·Wᵀ of a dense layer (W large, dy and
 * the result small) is the case this wins: 2·|W| against 2·|dy| + |dx|.
 */
export function preferTransposedProduct(shapes: MatMulShapes, transposeA: boolean, transposeB: boolean): boolean {
  const { m, k, n, batchA, batchB } = shapes;
  if (util.sizeFromShape(batchA) !== 1 || util.sizeFromShape(batchB) !== 1) return false;
  const sizeA = m * k;
  const sizeB = k * n;
  const direct = (transposeA ? sizeA : 0) + (transposeB ? sizeB : 0) + sizeB;
  const swapped = (transposeA ? 0 : sizeA) + (transposeB ? 0 : sizeB) + sizeA + m * n;
  return swapped < direct;
}

/** a·b with optional transposes on the wasm backend, never on the stock slow loop when it matters; owned by `scope`. */
export function wasmBatchMatMul(
  scope: KernelScope,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  const shapes = matMulShapes(a, b, transposeA, transposeB);
  const { outShape, k } = shapes;
  if (util.sizeFromShape(outShape) === 0 || k === 0) {
    return scope.run('Fill', {}, { shape: outShape, value: 0, dtype: 'float32' });
  }
  return scope.scoped((s) => {
    if (preferTransposedProduct(shapes, transposeA, transposeB)) {
      // (a·b)ᵀ = bᵀ·aᵀ: b goes in as XNNPACK's input, untouched, and only the small a and result move.
      // The transposed operands are freed as soon as the product is made.
      const prodT = s.scoped((product) => {
        const bT = rowMajor3d(product, b, !transposeB); // [1, N, K]
        const aT = rowMajor3d(product, a, !transposeA); // [1, K, M]
        return stockMatMul(product, bT, aT); // [1, N, M]
      });
      const prod = s.run('Transpose', { x: prodT }, { perm: [0, 2, 1] });
      return s.reshape(prod, outShape);
    }
    const a3 = rowMajor3d(s, a, transposeA);
    const b3 = rowMajor3d(s, b, transposeB);
    return s.reshape(matMul3d(s, a3, b3, shapes), outShape);
  });
}

function batchMatMul({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA = false, transposeB = false } = attrs as { transposeA?: boolean; transposeB?: boolean };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    // Stock says clearly that it does not support these.
    return callStockKernel(BatchMatMul, backend, WASM, { a, b }, { transposeA, transposeB });
  }
  return runScoped(backend, WASM, (scope) => wasmBatchMatMul(scope, a, b, transposeA, transposeB));
}

export const wasmBatchMatMulKernel: KernelOverride = {
  kernelName: BatchMatMul,
  backendName: WASM,
  kernelFunc: batchMatMul as tf.KernelFunc,
};
