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
import { callKernel, callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { batchEntry, disposeAll as dispose, type KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

/**
 * Below this many multiply-adds per batch entry, a batched matmul of two full batches stays on the
 * stock loop: a slice, an XNNPACK operator (weights packing included) and a concat per entry cost more.
 */
export const PER_ENTRY_XNNPACK_MIN_MACS = 65536;

export function reshapeInfo(backend: tf.KernelBackend, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return callKernel('Reshape', backend, WASM, { x }, { shape });
}

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
 * `transpose`; always a new TensorInfo the caller disposes.
 */
export function rowMajor3d(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  transpose: boolean,
): tf.TensorInfo {
  const r = x.shape.length;
  const rows = x.shape[r - 2];
  const cols = x.shape[r - 1];
  const x3 = reshapeInfo(backend, x, [util.sizeFromShape(x.shape.slice(0, -2)), rows, cols]);
  if (!transpose) return x3;
  const t = callKernel('Transpose', backend, WASM, { x: x3 }, { perm: [0, 2, 1] });
  dispose(backend, x3);
  return t;
}

/** Tiles x = [...batch, r, c] (batch broadcastable to outBatch) to [size(outBatch), r, c]. */
function broadcastBatch(
  backend: tf.KernelBackend,
  x3: tf.TensorInfo,
  batch: number[],
  outBatch: number[],
): tf.TensorInfo {
  const padded = [...new Array<number>(outBatch.length - batch.length).fill(1), ...batch];
  const [rows, cols] = x3.shape.slice(-2);
  const xr = reshapeInfo(backend, x3, [...padded, rows, cols]);
  const reps = [...outBatch.map((d, i) => (padded[i] === d ? 1 : d)), 1, 1];
  const tiled = callKernel('Tile', backend, WASM, { x: xr }, { reps });
  dispose(backend, xr);
  const out = reshapeInfo(backend, tiled, [util.sizeFromShape(outBatch), rows, cols]);
  dispose(backend, tiled);
  return out;
}

/** Stock matmul of untransposed [1, M, K] x [1, K, N]: XNNPACK. */
function stockMatMul(backend: tf.KernelBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  return callStockKernel(BatchMatMul, backend, WASM, { a, b }, { transposeA: false, transposeB: false });
}

/**
 * The product of a3 = [bA, M, K] and b3 = [bB, K, N] (untransposed, batches broadcast to outBatch),
 * shaped [size(outBatch), M, N]. Does not dispose a3 or b3.
 */
export function matMul3d(
  backend: tf.KernelBackend,
  a3: tf.TensorInfo,
  b3: tf.TensorInfo,
  shapes: MatMulShapes,
): tf.TensorInfo {
  const { m, k, n, batchA, batchB, outBatch } = shapes;
  const bA = a3.shape[0];
  const bB = b3.shape[0];
  const batch = util.sizeFromShape(outBatch);

  if (bB === 1) {
    // b shared: fold a's batch into its rows, one [bA*M, K] x [K, N] matmul.
    const a2 = reshapeInfo(backend, a3, [1, bA * m, k]);
    const out = stockMatMul(backend, a2, b3);
    dispose(backend, a2);
    const r = reshapeInfo(backend, out, [batch, m, n]);
    dispose(backend, out);
    return r;
  }
  if (bA === 1) {
    // a shared: fold b's batch into its columns, [M, K] x [K, bB*N], then move the batch back in front.
    const bt = callKernel('Transpose', backend, WASM, { x: b3 }, { perm: [1, 0, 2] });
    const b2 = reshapeInfo(backend, bt, [1, k, bB * n]);
    dispose(backend, bt);
    const prod = stockMatMul(backend, a3, b2);
    dispose(backend, b2);
    const prod3 = reshapeInfo(backend, prod, [m, bB, n]);
    dispose(backend, prod);
    const out = callKernel('Transpose', backend, WASM, { x: prod3 }, { perm: [1, 0, 2] });
    dispose(backend, prod3);
    return out;
  }
  // Both batched: make both full (general broadcasting), then per entry or on the stock loop.
  const aFull = bA === batch ? reshapeInfo(backend, a3, a3.shape) : broadcastBatch(backend, a3, batchA, outBatch);
  const bFull = bB === batch ? reshapeInfo(backend, b3, b3.shape) : broadcastBatch(backend, b3, batchB, outBatch);
  try {
    if (m * k * n < PER_ENTRY_XNNPACK_MIN_MACS) {
      // Small entries: the stock loop is correct for equal batches and cheaper than per-entry calls.
      return callStockKernel(BatchMatMul, backend, WASM, { a: aFull, b: bFull }, { transposeA: false, transposeB: false });
    }
    // One XNNPACK matmul per entry.
    const parts: tf.TensorInfo[] = [];
    try {
      for (let i = 0; i < batch; i++) {
        const ai = batchEntry(backend, aFull, i);
        const bi = batchEntry(backend, bFull, i);
        parts.push(stockMatMul(backend, ai, bi));
        dispose(backend, ai, bi);
      }
      // Concat copies (even a single part), so the parts are always ours to free.
      return callKernel('Concat', backend, WASM, parts as unknown as tf.NamedTensorInfoMap, { axis: 0 });
    } finally {
      dispose(backend, ...parts);
    }
  } finally {
    dispose(backend, aFull, bFull);
  }
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

/** a·b with optional transposes on the wasm backend, never on the stock slow loop when it matters. */
export function wasmBatchMatMul(
  backend: tf.KernelBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  const shapes = matMulShapes(a, b, transposeA, transposeB);
  const { outShape, k } = shapes;
  if (util.sizeFromShape(outShape) === 0 || k === 0) {
    return callKernel('Fill', backend, WASM, {}, { shape: outShape, value: 0, dtype: 'float32' });
  }
  if (preferTransposedProduct(shapes, transposeA, transposeB)) {
    // (a·b)ᵀ = bᵀ·aᵀ: b goes in as XNNPACK's input, untouched, and only the small a and result move.
    const bT = rowMajor3d(backend, b, !transposeB); // [1, N, K]
    const aT = rowMajor3d(backend, a, !transposeA); // [1, K, M]
    let prodT: tf.TensorInfo;
    try {
      prodT = stockMatMul(backend, bT, aT); // [1, N, M]
    } finally {
      dispose(backend, aT, bT);
    }
    const prod = callKernel('Transpose', backend, WASM, { x: prodT }, { perm: [0, 2, 1] });
    dispose(backend, prodT);
    const out = reshapeInfo(backend, prod, outShape);
    dispose(backend, prod);
    return out;
  }
  const a3 = rowMajor3d(backend, a, transposeA);
  const b3 = rowMajor3d(backend, b, transposeB);
  let out3: tf.TensorInfo;
  try {
    out3 = matMul3d(backend, a3, b3, shapes);
  } finally {
    dispose(backend, a3, b3);
  }
  const out = reshapeInfo(backend, out3, outShape);
  dispose(backend, out3);
  return out;
}

function batchMatMul({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA = false, transposeB = false } = attrs as { transposeA?: boolean; transposeB?: boolean };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    // Stock says clearly that it does not support these.
    return callStockKernel(BatchMatMul, backend, WASM, { a, b }, { transposeA, transposeB });
  }
  return wasmBatchMatMul(backend, a, b, transposeA, transposeB);
}

export const wasmBatchMatMulKernel: KernelOverride = {
  kernelName: BatchMatMul,
  backendName: WASM,
  kernelFunc: batchMatMul as tf.KernelFunc,
};
