// Our wasm BatchMatMul, _FusedMatMul and UnsortedSegmentSum against stock tfjs-cpu: randomised seeded
// cases plus named edge cases, and no leaked wasm tensors.
// Error measure everywhere: max|ours − ref| / max(1, max|ref|) ≤ 1e-4.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { WASM_KERNELS } from '@trainhooks/backend/internal';
import { seededRandom } from '@trainhooks/cli/internal';
import {
  elementCount,
  expectWasmMatchesCpu,
  expectWithinTolerance,
  randomInt,
  randomPick,
  randomValues,
  runOnBackend,
  useBackendWithKernels,
  wasmDataIdCount,
} from './kernel-test-helpers.js';

const RANDOM_CASES = 40;

beforeAll(async () => {
  await useBackendWithKernels('wasm', WASM_KERNELS);
});

// ————————————————————————————————————————— BatchMatMul ————————————————————————————————————————————

interface MatMulCase {
  label: string;
  batchA: number[];
  batchB: number[];
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

const operandShape = (batch: number[], rows: number, cols: number, transpose: boolean) =>
  transpose ? [...batch, cols, rows] : [...batch, rows, cols];

function matMulOf(c: MatMulCase, seed: number): () => tf.Tensor {
  const random = seededRandom(seed);
  const aShape = operandShape(c.batchA, c.m, c.k, c.transposeA);
  const bShape = operandShape(c.batchB, c.k, c.n, c.transposeB);
  const a = randomValues(random, elementCount(aShape));
  const b = randomValues(random, elementCount(bShape));
  return () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), c.transposeA, c.transposeB);
}

/**
 * Batch shapes whose broadcast tfjs-cpu computes right: it indexes batch entry i of an operand as
 * i % batchSize, correct when an operand's batch is all ones or a suffix of the output batch.
 */
function randomBatches(random: () => number): [number[], number[]] {
  const full = Array.from({ length: randomInt(random, 0, 2) }, () => randomInt(random, 1, 4));
  const suffix = full.slice(randomInt(random, 0, full.length));
  const ones = full.slice(randomInt(random, 0, full.length)).map(() => 1);
  const other = randomPick(random, [full, suffix, ones]);
  return random() < 0.5 ? [full, other] : [other, full];
}

function randomMatMulCase(random: () => number, i: number): MatMulCase {
  const [batchA, batchB] = randomBatches(random);
  // A third of the cases are big enough for the per-entry XNNPACK path when both operands are batched.
  const big = i % 3 === 0;
  const dim = () => (big ? randomInt(random, 24, 90) : randomInt(random, 1, 40));
  return {
    label: `random ${i}`,
    batchA,
    batchB,
    m: dim(),
    k: dim(),
    n: dim(),
    transposeA: random() < 0.5,
    transposeB: random() < 0.5,
  };
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

const MATMUL_EDGE_CASES: MatMulCase[] = [
  ...TRANSPOSES.map(([transposeA, transposeB]) => ({
    label: `2-D 37×53·53×29 transposeA=${transposeA} transposeB=${transposeB}`,
    batchA: [],
    batchB: [],
    m: 37,
    k: 53,
    n: 29,
    transposeA,
    transposeB,
  })),
  ...TRANSPOSES.map(([transposeA, transposeB]) => ({
    label: `batched 3×(70×65·65×67) transposeA=${transposeA} transposeB=${transposeB}`,
    batchA: [3],
    batchB: [3],
    m: 70,
    k: 65,
    n: 67,
    transposeA,
    transposeB,
  })),
  ...TRANSPOSES.map(([transposeA, transposeB]) => ({
    label: `shared b: [2,3] batch · unbatched, transposeA=${transposeA} transposeB=${transposeB}`,
    batchA: [2, 3],
    batchB: [],
    m: 9,
    k: 31,
    n: 13,
    transposeA,
    transposeB,
  })),
  ...TRANSPOSES.map(([transposeA, transposeB]) => ({
    label: `shared a: batch [1] · batch [5], transposeA=${transposeA} transposeB=${transposeB}`,
    batchA: [1],
    batchB: [5],
    m: 11,
    k: 17,
    n: 19,
    transposeA,
    transposeB,
  })),
  { label: '1×1·1×1', batchA: [], batchB: [], m: 1, k: 1, n: 1, transposeA: false, transposeB: false },
  { label: 'row · matrix', batchA: [], batchB: [], m: 1, k: 64, n: 33, transposeA: true, transposeB: false },
  { label: 'matrix · column', batchA: [], batchB: [], m: 45, k: 64, n: 1, transposeA: false, transposeB: true },
  { label: 'outer product k=1', batchA: [4], batchB: [4], m: 30, k: 1, n: 30, transposeA: true, transposeB: true },
  { label: 'rank 4 · rank 2', batchA: [2, 3], batchB: [], m: 5, k: 7, n: 3, transposeA: true, transposeB: false },
  { label: 'rank 2 · rank 4', batchA: [], batchB: [2, 3], m: 5, k: 7, n: 3, transposeA: false, transposeB: true },
  { label: 'batch 1 both', batchA: [1], batchB: [1], m: 128, k: 96, n: 80, transposeA: true, transposeB: true },
  { label: 'many small entries', batchA: [64], batchB: [64], m: 8, k: 8, n: 8, transposeA: false, transposeB: true },
  { label: 'mlp dW: 64×784ᵀ·64×512', batchA: [], batchB: [], m: 784, k: 64, n: 512, transposeA: true, transposeB: false },
  { label: 'mlp dX: 64×512·(784×512)ᵀ', batchA: [], batchB: [], m: 64, k: 512, n: 784, transposeA: false, transposeB: true },
];

describe('wasm BatchMatMul', () => {
  it('matches tfjs-cpu on named edge cases (all transposes, batched, broadcast, odd sizes)', async () => {
    for (const [i, c] of MATMUL_EDGE_CASES.entries()) await expectWasmMatchesCpu(c.label, matMulOf(c, 100 + i));
  });

  it(`matches tfjs-cpu on ${RANDOM_CASES} randomised seeded cases`, async () => {
    const random = seededRandom(7);
    for (let i = 0; i < RANDOM_CASES; i++) {
      const c = randomMatMulCase(random, i);
      await expectWasmMatchesCpu(`${c.label}: ${JSON.stringify(c)}`, matMulOf(c, 1000 + i));
    }
  });

  it('broadcasts batch dims both ways (which tfjs-cpu and stock wasm get wrong) like explicitly tiled operands', async () => {
    const random = seededRandom(11);
    for (const [transposeA, transposeB] of TRANSPOSES) {
      const aShape = operandShape([2, 1], 20, 24, transposeA);
      const bShape = operandShape([1, 3], 24, 18, transposeB);
      const a = randomValues(random, elementCount(aShape));
      const b = randomValues(random, elementCount(bShape));
      const label = `[2,1]·[1,3] transposeA=${transposeA} transposeB=${transposeB}`;
      const ref = await runOnBackend('cpu', () =>
        tf.matMul(tf.tile(tf.tensor(a, aShape), [1, 3, 1, 1]), tf.tile(tf.tensor(b, bShape), [2, 1, 1, 1]), transposeA, transposeB),
      );
      const ours = await runOnBackend('wasm', () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), transposeA, transposeB));
      expect(ours.shape, label).toEqual([2, 3, 20, 18]);
      expectWithinTolerance(ours.data, ref.data, label);
    }
  });

  it('handles empty products (k = 0 gives zeros, m = 0 gives an empty tensor)', async () => {
    const zeros = await runOnBackend('wasm', () => tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])));
    expect(zeros.shape).toEqual([3, 4]);
    expect(Array.from(zeros.data)).toEqual(new Array(12).fill(0));
    const empty = await runOnBackend('wasm', () => tf.matMul(tf.zeros([2, 0, 5]), tf.zeros([2, 5, 4]), false, false));
    expect(empty.shape).toEqual([2, 0, 4]);
  });

  it('gradients of a transposed matmul match tfjs-cpu', async () => {
    const random = seededRandom(3);
    const a = randomValues(random, 40 * 30);
    const b = randomValues(random, 50 * 30);
    const f = () => {
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, false, true))))([
        tf.tensor(a, [40, 30]),
        tf.tensor(b, [50, 30]),
      ]);
      return tf.concat([tf.reshape(da, [-1]), tf.reshape(db, [-1])]);
    };
    await expectWasmMatchesCpu('grads of a·bᵀ', f);
  });

  it('leaks no wasm tensors on any path', async () => {
    await tf.setBackend('wasm');
    const before = wasmDataIdCount();
    tf.tidy(() => {
      const a = tf.randomNormal([3, 40, 30]);
      const b = tf.randomNormal([3, 30, 50]);
      for (const [transposeA, transposeB] of TRANSPOSES) {
        const x = transposeA ? tf.transpose(a, [0, 2, 1]) : a;
        const y = transposeB ? tf.transpose(b, [0, 2, 1]) : b;
        const x1 = tf.slice(x, [0, 0, 0], [1, -1, -1]);
        const y1 = tf.slice(y, [0, 0, 0], [1, -1, -1]);
        tf.matMul(x, y, transposeA, transposeB); // per-entry XNNPACK
        tf.matMul(x1, y, transposeA, transposeB); // shared a
        tf.matMul(x, y1, transposeA, transposeB); // shared b
        tf.matMul(tf.slice(x, [0, 0, 0], [-1, 4, 4]), tf.slice(y, [0, 0, 0], [-1, 4, 4]), transposeA, transposeB); // stock loop
      }
      tf.matMul(tf.ones([2, 1, 3, 4]), tf.ones([1, 3, 4, 5])); // two-sided broadcast
      tf.fused.matMul({ a: tf.ones([2, 3, 4]), b: tf.ones([2, 4, 5]), bias: tf.ones([5]), activation: 'relu' });
      tf.fused.matMul({ a: tf.ones([1, 3, 4]), b: tf.ones([1, 5, 4]), transposeB: true, bias: tf.ones([5]), activation: 'relu' });
    });
    expect(wasmDataIdCount()).toBe(before);
  });
});

// ————————————————————————————————————————— _FusedMatMul ————————————————————————————————————————————

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' | 'prelu';
const ACTIVATIONS: Activation[] = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];
type BiasKind = 'none' | 'column' | 'scalar' | 'full';

interface FusedCase extends MatMulCase {
  bias: BiasKind;
  activation: Activation;
}

function fusedOf(c: FusedCase, seed: number): () => tf.Tensor {
  const random = seededRandom(seed);
  const aShape = operandShape(c.batchA, c.m, c.k, c.transposeA);
  const bShape = operandShape(c.batchB, c.k, c.n, c.transposeB);
  const a = randomValues(random, elementCount(aShape));
  const b = randomValues(random, elementCount(bShape));
  const biasShape = { none: null, column: [c.n], scalar: [1], full: [c.m, c.n] }[c.bias];
  const bias = biasShape ? randomValues(random, elementCount(biasShape)) : null;
  const alpha = randomValues(random, c.n);
  return () =>
    tf.fused.matMul({
      a: tf.tensor(a, aShape),
      b: tf.tensor(b, bShape),
      transposeA: c.transposeA,
      transposeB: c.transposeB,
      bias: bias && biasShape ? tf.tensor(bias, biasShape) : undefined,
      activation: c.activation,
      preluActivationWeights: c.activation === 'prelu' ? tf.tensor(alpha, [c.n]) : undefined,
      leakyreluAlpha: 0.15,
    });
}

describe('wasm _FusedMatMul', () => {
  it('matches tfjs-cpu for every activation, bias shape and transpose (stock wasm adds the bias wrongly)', async () => {
    let i = 0;
    for (const activation of ACTIVATIONS) {
      for (const [transposeA, transposeB] of TRANSPOSES) {
        const bias = (['none', 'column', 'scalar', 'full'] as const)[i % 4];
        const c: FusedCase = { label: '', batchA: [], batchB: [], m: 13, k: 21, n: 17, transposeA, transposeB, bias, activation };
        await expectWasmMatchesCpu(`${activation} ${bias} tA=${transposeA} tB=${transposeB}`, fusedOf(c, 200 + i++));
      }
    }
  });

  it(`matches tfjs-cpu on ${RANDOM_CASES} randomised seeded cases`, async () => {
    const random = seededRandom(17);
    for (let i = 0; i < RANDOM_CASES; i++) {
      // tfjs' fused op reshapes both operands to rank 3 itself, so batches here are at most one dim.
      const batch = randomInt(random, 1, 4);
      const layout = randomPick(random, ['same', 'sharedB', 'sharedA'] as const);
      const c: FusedCase = {
        ...randomMatMulCase(random, i),
        batchA: layout === 'sharedA' ? [1] : [batch],
        batchB: layout === 'sharedB' ? [1] : [batch],
        bias: randomPick(random, ['none', 'column', 'scalar', 'full'] as const),
        activation: randomPick(random, ACTIVATIONS),
      };
      await expectWasmMatchesCpu(`fused random ${i}: ${JSON.stringify(c)}`, fusedOf(c, 2000 + i));
    }
  });

  it('trains like tfjs-cpu through a dense layer (gradients of fused matmul + bias + relu)', async () => {
    const random = seededRandom(5);
    const x = randomValues(random, 32 * 24);
    const w = randomValues(random, 24 * 16);
    const bias = randomValues(random, 16);
    const f = () => {
      const grads = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
        tf.sum(tf.fused.matMul({ a: xs as tf.Tensor2D, b: ws as tf.Tensor2D, bias: bs, activation: 'relu' })),
      )([tf.tensor(x, [32, 24]), tf.tensor(w, [24, 16]), tf.tensor(bias, [16])]);
      return tf.concat(grads.map((g) => tf.reshape(g, [-1])));
    };
    await expectWasmMatchesCpu('dense grads', f);
  });
});

// ————————————————————————————————————————— UnsortedSegmentSum —————————————————————————————————————

interface SegmentCase {
  label: string;
  xShape: number[];
  idsShape: number[];
  numSegments: number;
  /** Ids are drawn from [lo, hi]. */
  lo: number;
  hi: number;
  dtype?: 'float32' | 'int32';
}

function segmentSumOf(c: SegmentCase, seed: number): () => tf.Tensor {
  const random = seededRandom(seed);
  const x = randomValues(random, elementCount(c.xShape)).map((v) => (c.dtype === 'int32' ? Math.round(v * 50) : v));
  const ids = Int32Array.from({ length: elementCount(c.idsShape) }, () => randomInt(random, c.lo, c.hi));
  // tfjs types segmentIds as 1-D; its kernels accept (and tfjs-cpu defines) other ranks too.
  return () =>
    tf.unsortedSegmentSum(
      tf.tensor(x, c.xShape, c.dtype ?? 'float32'),
      tf.tensor(ids, c.idsShape, 'int32') as unknown as tf.Tensor1D,
      c.numSegments,
    );
}

const SEGMENT_EDGE_CASES: SegmentCase[] = [
  { label: 'negative and out-of-range ids are dropped', xShape: [12, 3], idsShape: [12], numSegments: 4, lo: -3, hi: 7 },
  { label: 'all ids out of range', xShape: [5, 2], idsShape: [5], numSegments: 3, lo: 3, hi: 9 },
  { label: 'all ids negative', xShape: [5, 2], idsShape: [5], numSegments: 3, lo: -5, hi: -1 },
  { label: 'one segment, duplicates summed', xShape: [40, 6], idsShape: [40], numSegments: 1, lo: 0, hi: 0 },
  { label: 'rank 1 x', xShape: [17], idsShape: [17], numSegments: 5, lo: -1, hi: 5 },
  { label: 'rank 3 x', xShape: [9, 4, 3], idsShape: [9], numSegments: 6, lo: 0, hi: 6 },
  { label: 'single row', xShape: [1, 8], idsShape: [1], numSegments: 2, lo: 1, hi: 1 },
  { label: 'more segments than rows', xShape: [3, 5], idsShape: [3], numSegments: 50, lo: 0, hi: 49 },
  // tfjs-cpu's definition for other ids shapes: unit dims inserted after ids' first dim, then broadcast.
  { label: 'ids of rank 2, x of rank 3', xShape: [4, 3, 2], idsShape: [4, 2], numSegments: 3, lo: -1, hi: 3 },
  { label: 'ids of rank 2 broadcast against a unit dim of x', xShape: [5, 4, 1], idsShape: [5, 3], numSegments: 4, lo: 0, hi: 4 },
  { label: 'ids of the rank of x', xShape: [6, 3], idsShape: [6, 3], numSegments: 2, lo: -1, hi: 2 },
];

describe('wasm UnsortedSegmentSum', () => {
  it('matches tfjs-cpu on named edge cases (negative / out-of-range ids dropped, duplicates summed)', async () => {
    for (const [i, c] of SEGMENT_EDGE_CASES.entries()) await expectWasmMatchesCpu(c.label, segmentSumOf(c, 300 + i));
  });

  it(`matches tfjs-cpu on ${RANDOM_CASES} randomised seeded cases`, async () => {
    const random = seededRandom(23);
    for (let i = 0; i < RANDOM_CASES; i++) {
      const rows = randomInt(random, 1, 60);
      const numSegments = randomInt(random, 1, 20);
      const c: SegmentCase = {
        label: `segment random ${i}`,
        xShape: [rows, ...Array.from({ length: randomInt(random, 0, 2) }, () => randomInt(random, 1, 7))],
        idsShape: [rows],
        numSegments,
        lo: -randomInt(random, 0, 3),
        hi: numSegments - 1 + randomInt(random, 0, 3),
      };
      await expectWasmMatchesCpu(`${c.label}: ${JSON.stringify(c)}`, segmentSumOf(c, 3000 + i));
    }
  });

  it('sums int32 x exactly (keeping int32, where tfjs-cpu returns float32)', async () => {
    const c: SegmentCase = { label: 'int32', xShape: [30, 4], idsShape: [30], numSegments: 6, lo: -2, hi: 7, dtype: 'int32' };
    const ref = await runOnBackend('cpu', segmentSumOf(c, 400));
    const ours = await runOnBackend('wasm', segmentSumOf(c, 400));
    expect(ours.dtype).toBe('int32');
    expect(Array.from(ours.data)).toEqual(Array.from(ref.data));
  });

  it('gives the embedding gradient (of gather) that tfjs-cpu gives', async () => {
    const random = seededRandom(29);
    const table = randomValues(random, 50 * 8);
    const ids = Int32Array.from({ length: 64 }, () => randomInt(random, 0, 49));
    const weights = randomValues(random, 64 * 8);
    const f = () =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor(ids, [64], 'int32')), tf.tensor(weights, [64, 8]))))(
        tf.tensor(table, [50, 8]),
      );
    await expectWasmMatchesCpu('gather gradient', f);
  });

  it('leaks no wasm tensors', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([20, 3]);
    const ids = tf.tensor1d(Array.from({ length: 20 }, (_, i) => (i % 7) - 1), 'int32');
    const ids2 = tf.tensor2d(Array.from({ length: 60 }, (_, i) => i % 4), [20, 3], 'int32');
    const before = wasmDataIdCount();
    tf.unsortedSegmentSum(x, ids, 5).dispose();
    tf.unsortedSegmentSum(x, ids2 as unknown as tf.Tensor1D, 3).dispose();
    expect(wasmDataIdCount()).toBe(before);
    tf.dispose([x, ids, ids2]);
  });
});
