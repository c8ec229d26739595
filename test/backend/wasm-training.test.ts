// Our wasm training-step kernels (Tile, leading-axes Sum and Mean, MaxPoolGrad, FusedBatchNorm, per-channel
// Multiply / Add / Sub, zero-copy Identity and Cast) against stock tfjs-cpu: randomised seeded cases plus named
// edge cases, and gradients of a small conv / batch-norm / max-pool model end to end.
// Error measure everywhere: max|ours − ref| / max(1, max|ref|) ≤ 1e-4.
import { describe, it, expect, beforeAll, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { WASM_KERNELS } from '@trainhooks/backend/internal';
import { seededRandom } from '@trainhooks/cli/internal';
import { activeKernelPool } from '../../packages/backend/src/wasm-threads/active-kernel-pool.js';
import { MAX_POOL_GRAD_FUNCTION } from '../../packages/backend/src/wasm-threads/max-pool-grad-wat.js';
import { REPEAT_FUNCTION } from '../../packages/backend/src/wasm-threads/repeat-wat.js';
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

const RANDOM_CASES = 30;

/** Small integers, negatives included: max pools full of ties and all-negative windows. */
const randomSmallIntegers = (random: () => number, count: number) =>
  Float32Array.from({ length: count }, () => randomInt(random, -3, 3));
/** A shape of `rank` dims, each in [1, hi]. */
const randomShape = (random: () => number, rank: number, hi: number) =>
  Array.from({ length: rank }, () => randomInt(random, 1, hi));

beforeAll(async () => {
  await useBackendWithKernels('wasm', WASM_KERNELS);
});

describe('wasm Tile', () => {
  it(`matches tfjs-cpu on ${RANDOM_CASES} randomised seeded cases and edge cases`, async () => {
    const random = seededRandom(1);
    const cases: { shape: number[]; reps: number[] }[] = [
      { shape: [1, 1, 1, 16], reps: [64, 28, 28, 1] }, // BatchNormalization's gradient
      { shape: [3], reps: [1] },
      { shape: [2, 3], reps: [1, 2] },
      { shape: [1], reps: [7] },
      { shape: [2, 1, 3, 1, 2], reps: [2, 3, 1, 2, 2] },
      { shape: [2, 3], reps: [5, 1] }, // x repeated whole (the block copy), a count that is no power of two
      { shape: [1, 3], reps: [1, 1] }, // a plain copy
    ];
    for (let i = 0; i < RANDOM_CASES; i++) {
      const rank = randomInt(random, 1, 5);
      cases.push({ shape: randomShape(random, rank, 4), reps: randomShape(random, rank, 3) });
    }
    for (const [i, c] of cases.entries()) {
      const x = randomValues(seededRandom(100 + i), elementCount(c.shape));
      await expectWasmMatchesCpu(`tile ${JSON.stringify(c)}`, () => tf.tile(tf.tensor(x, c.shape), c.reps));
    }
  });

  it('copies -0, NaN and ±Infinity unchanged, on both paths, and tiles int32 and bool', async () => {
    await tf.setBackend('wasm');
    const specials = [-0, NaN, Infinity, -Infinity];
    const show = (values: ArrayLike<number>) => Array.from(values).map((v) => (Object.is(v, -0) ? '-0' : String(v)));
    // Repeated whole (the block copy), and each element repeated (the broadcast add to -0).
    expect(show(tf.tile(tf.tensor(specials), [3]).dataSync())).toEqual(show([...specials, ...specials, ...specials]));
    expect(show(tf.tile(tf.tensor(specials, [4, 1]), [1, 2]).dataSync())).toEqual(show(specials.flatMap((v) => [v, v])));
    expect(Array.from(tf.tile(tf.tensor([1, 2], [2], 'int32'), [3]).dataSync())).toEqual([1, 2, 1, 2, 1, 2]);
    expect(Array.from(tf.tile(tf.tensor([1, 2], [2, 1], 'int32'), [1, 2]).dataSync())).toEqual([1, 1, 2, 2]);
    expect(Array.from(tf.tile(tf.tensor([true, false], [1, 2], 'bool'), [3, 1]).dataSync())).toEqual([1, 0, 1, 0, 1, 0]);
  });

  it('repeats x whole on the kernel pool, split over its threads when large', async () => {
    await tf.setBackend('wasm');
    const run = vi.spyOn(activeKernelPool()!, 'run');
    try {
      const x = randomValues(seededRandom(4), 16);
      // 1.6 M elements: over the pool's split size; rows of 16 floats copied 100 352 times.
      await expectWasmMatchesCpu('tile [1,1,1,16] → [128,28,28,16]', () => tf.tile(tf.tensor(x, [1, 1, 1, 16]), [128, 28, 28, 1]));
      const parts = run.mock.calls.filter(([name]) => name === REPEAT_FUNCTION).map(([, p]) => p.length);
      expect(parts).toEqual([activeKernelPool()!.threads]);
    } finally {
      run.mockRestore();
    }
  });

  it('repeats x whole in JavaScript when the pool call fails', async () => {
    await tf.setBackend('wasm');
    const pool = activeKernelPool()!;
    const realRun = pool.run.bind(pool);
    const run = vi.spyOn(pool, 'run').mockImplementation((name, parts) => {
      if (name === REPEAT_FUNCTION) throw new Error('forced failure');
      realRun(name, parts);
    });
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const x = randomValues(seededRandom(5), 12);
      await expectWasmMatchesCpu('tile [3,4] → [21,4] without the pool', () => tf.tile(tf.tensor(x, [3, 4]), [7, 1]));
      expect(run.mock.calls.some(([name]) => name === REPEAT_FUNCTION)).toBe(true);
      expect(warning).toHaveBeenCalled();
    } finally {
      run.mockRestore();
      warning.mockRestore();
    }
  });
});

describe('wasm Sum and Mean', () => {
  it(`match tfjs-cpu on ${RANDOM_CASES} randomised axis sets each (leading axes on our path, others on stock)`, async () => {
    const random = seededRandom(2);
    for (let i = 0; i < RANDOM_CASES; i++) {
      const rank = randomInt(random, 1, 4);
      const shape = randomShape(random, rank, 9);
      const leading = randomInt(random, 1, rank);
      const axes = random() < 0.75 ? Array.from({ length: leading }, (_, a) => a) : [randomInt(random, 0, rank - 1)];
      const keepDims = random() < 0.5;
      const x = randomValues(seededRandom(200 + i), elementCount(shape));
      const label = `${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keepDims ${keepDims}`;
      await expectWasmMatchesCpu(`sum ${label}`, () => tf.sum(tf.tensor(x, shape), axes, keepDims));
      await expectWasmMatchesCpu(`mean ${label}`, () => tf.mean(tf.tensor(x, shape), axes, keepDims));
    }
  });

  it('reduce BatchNormalization-sized NHWC tensors over [0, 1, 2], and -1 style axes', async () => {
    const x = randomValues(seededRandom(3), 64 * 28 * 28 * 16);
    const xt = () => tf.tensor(x, [64, 28, 28, 16]);
    await expectWasmMatchesCpu('sum nhwc', () => tf.sum(xt(), [0, 1, 2]));
    await expectWasmMatchesCpu('mean nhwc keepDims', () => tf.mean(xt(), [2, 0, 1], true));
    await expectWasmMatchesCpu('sum negative axes', () => tf.sum(tf.reshape(xt(), [64 * 28, 28, 16]), [-3, -2]));
    await expectWasmMatchesCpu('moments', () => tf.concat(Object.values(tf.moments(xt(), [0, 1, 2]))));
    await expectWasmMatchesCpu('int32 sum (stock)', () => tf.sum(tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32'), 0));
  });

  it('pool the rows in one group per thread, then the groups, when threads run (the threaded pass)', async () => {
    await tf.setBackend('wasm');
    const avgPool = tf.getKernel('AvgPool', 'wasm');
    const pooled = vi.spyOn(avgPool, 'kernelFunc');
    try {
      tf.tidy(() => tf.sum(tf.ones([64, 28, 28, 16]), [0, 1, 2]).dataSync());
      const windows = pooled.mock.calls.map(([args]) => (args.attrs as { filterSize: number[] }).filterSize[0]);
      const threads = activeKernelPool()?.threads ?? 1;
      expect(windows).toEqual(threads > 1 ? [(64 * 28 * 28) / threads, threads] : [64 * 28 * 28]);
    } finally {
      pooled.mockRestore();
    }
  });
});

describe('wasm MaxPoolGrad', () => {
  type Pool = { x: [number, number, number, number]; filter: [number, number]; strides: [number, number]; pad: 'same' | 'valid' };
  const gradOf = (p: Pool, seed: number) => {
    const random = seededRandom(seed);
    const x = randomSmallIntegers(random, elementCount(p.x));
    return () =>
      tf.grad((t: tf.Tensor) => {
        const y = tf.maxPool(t as tf.Tensor4D, p.filter, p.strides, p.pad);
        return tf.sum(tf.mul(y, tf.tensor(randomValues(seededRandom(seed + 1), elementCount(y.shape)), y.shape)));
      })(tf.tensor(x, p.x));
  };

  it('matches tfjs-cpu with ties and all-negative windows (stock wasm does not) on named cases', async () => {
    const cases: Pool[] = [
      { x: [2, 24, 24, 8], filter: [2, 2], strides: [2, 2], pad: 'valid' }, // the cnn's pools
      { x: [2, 11, 13, 3], filter: [2, 2], strides: [2, 2], pad: 'valid' }, // odd: last row / column unused
      { x: [2, 11, 13, 3], filter: [2, 2], strides: [2, 2], pad: 'same' }, // odd: padded
      { x: [1, 9, 7, 5], filter: [3, 3], strides: [3, 3], pad: 'same' },
      { x: [3, 8, 9, 2], filter: [2, 3], strides: [2, 3], pad: 'valid' }, // non-square
      { x: [1, 4, 4, 1], filter: [4, 4], strides: [4, 4], pad: 'valid' }, // one window
      { x: [2, 6, 6, 3], filter: [1, 1], strides: [1, 1], pad: 'valid' }, // 1×1
      { x: [2, 13, 11, 3], filter: [2, 2], strides: [3, 3], pad: 'valid' }, // stride > window: gaps
      { x: [2, 13, 11, 3], filter: [3, 2], strides: [4, 3], pad: 'same' }, // gaps, padded
    ];
    for (const [i, c] of cases.entries()) {
      await expectWasmMatchesCpu(`maxPoolGrad ${JSON.stringify(c)}`, gradOf(c, 300 + i * 7));
    }
  });

  it('matches tfjs-cpu on overlapping windows, ties and all-negative windows included (stock wasm does not)', async () => {
    const cases: Pool[] = [
      { x: [2, 9, 9, 3], filter: [3, 3], strides: [2, 2], pad: 'same' },
      { x: [2, 10, 7, 4], filter: [3, 2], strides: [1, 1], pad: 'valid' },
      { x: [1, 8, 8, 2], filter: [4, 4], strides: [2, 3], pad: 'same' },
    ];
    for (const [i, c] of cases.entries()) {
      await expectWasmMatchesCpu(`maxPoolGrad overlapping ${JSON.stringify(c)}`, gradOf(c, 350 + i * 7));
    }
  });

  it('passes no gradient from windows of -Infinity / NaN and never picks a NaN, like tfjs-cpu', async () => {
    const shape: [number, number, number, number] = [1, 4, 6, 2];
    const x = Float32Array.from({ length: elementCount(shape) }, (_, i) => (i % 5) - 2);
    const at = (r: number, c: number, d: number) => (r * 6 + c) * 2 + d;
    for (const [r, c] of [[0, 0], [0, 1], [1, 0], [1, 1]]) x[at(r!, c!, 0)] = -Infinity; // a window of -Infinity
    for (const [r, c] of [[0, 2], [0, 3], [1, 2], [1, 3]]) x[at(r!, c!, 1)] = NaN; // a window of NaN
    x[at(2, 4, 0)] = NaN; // a NaN beside finite values
    const dy = randomValues(seededRandom(11), 1 * 2 * 3 * 2);
    for (const strides of [[2, 2], [1, 1]] as const) {
      await expectWasmMatchesCpu(`maxPoolGrad special values, strides ${strides}`, () =>
        tf.grad((t: tf.Tensor) => {
          const y = tf.maxPool(t as tf.Tensor4D, [2, 2], [...strides], 'valid');
          return tf.sum(tf.mul(y, strides[0] === 2 ? tf.tensor(dy, y.shape) : tf.onesLike(y)));
        })(tf.tensor(x, shape)),
      );
    }
  });

  it(`matches tfjs-cpu on ${RANDOM_CASES} randomised seeded pools`, async () => {
    const random = seededRandom(4);
    for (let i = 0; i < RANDOM_CASES; i++) {
      const int = (lo: number, hi: number) => randomInt(random, lo, hi);
      const filter: [number, number] = [int(1, 3), int(1, 3)];
      const pad = randomPick(random, ['same', 'valid'] as const);
      const c: Pool = {
        x: [int(1, 3), int(filter[0], 12), int(filter[1], 12), int(1, 5)],
        filter,
        strides: [int(1, filter[0] + 2), int(1, filter[1] + 2)], // overlapping, touching and with gaps
        pad,
      };
      await expectWasmMatchesCpu(`maxPoolGrad random ${i} ${JSON.stringify(c)}`, gradOf(c, 400 + i * 7));
    }
  });
});

describe('wasm MaxPoolGrad on the kernel pool (channels in multiples of 4)', () => {
  type Pool = { x: [number, number, number, number]; filter: [number, number]; strides: [number, number]; pad: 'same' | 'valid' };
  const gradOf = (p: Pool, x: Float32Array, seed: number) => () =>
    tf.grad((t: tf.Tensor) => {
      const y = tf.maxPool(t as tf.Tensor4D, p.filter, p.strides, p.pad);
      return tf.sum(tf.mul(y, tf.tensor(randomValues(seededRandom(seed), elementCount(y.shape)), y.shape)));
    })(tf.tensor(x, p.x));

  /** Runs `body` and returns the number of parts of each pool MaxPoolGrad call it made. */
  async function poolCalls(body: () => Promise<void>): Promise<number[]> {
    const run = vi.spyOn(activeKernelPool()!, 'run');
    try {
      await body();
      return run.mock.calls.filter(([name]) => name === MAX_POOL_GRAD_FUNCTION).map(([, parts]) => parts.length);
    } finally {
      run.mockRestore();
    }
  }

  it('matches tfjs-cpu on named and random cases, ties, overlaps and gaps included', async () => {
    const cases: Pool[] = [
      { x: [2, 24, 24, 8], filter: [2, 2], strides: [2, 2], pad: 'valid' },
      { x: [2, 11, 13, 4], filter: [2, 2], strides: [2, 2], pad: 'same' },
      { x: [2, 9, 9, 12], filter: [3, 3], strides: [2, 2], pad: 'same' }, // overlapping
      { x: [1, 8, 8, 4], filter: [4, 4], strides: [2, 3], pad: 'same' },
      { x: [2, 13, 11, 4], filter: [3, 2], strides: [4, 3], pad: 'same' }, // gaps, padded
    ];
    const random = seededRandom(5);
    for (let i = 0; i < 12; i++) {
      const int = (lo: number, hi: number) => randomInt(random, lo, hi);
      const filter: [number, number] = [int(1, 3), int(1, 3)];
      cases.push({ x: [int(1, 3), int(filter[0], 12), int(filter[1], 12), 4 * int(1, 3)], filter, strides: [int(1, filter[0] + 2), int(1, filter[1] + 2)], pad: randomPick(random, ['same', 'valid'] as const) });
    }
    const parts = await poolCalls(async () => {
      for (const [i, c] of cases.entries()) {
        // Small integers: ties in most windows.
        const x = randomSmallIntegers(seededRandom(500 + i), elementCount(c.x));
        await expectWasmMatchesCpu(`pool maxPoolGrad ${JSON.stringify(c)}`, gradOf(c, x, 600 + i));
      }
    });
    expect(parts.length).toBe(cases.length);
  });

  it('passes no gradient from windows of -Infinity / NaN and never picks a NaN', async () => {
    const shape: [number, number, number, number] = [1, 4, 6, 4];
    const x = Float32Array.from({ length: elementCount(shape) }, (_, i) => (i % 5) - 2);
    const at = (r: number, c: number, d: number) => (r * 6 + c) * 4 + d;
    for (const [r, c] of [[0, 0], [0, 1], [1, 0], [1, 1]]) x[at(r!, c!, 0)] = -Infinity;
    for (const [r, c] of [[0, 2], [0, 3], [1, 2], [1, 3]]) x[at(r!, c!, 1)] = NaN;
    x[at(2, 4, 2)] = NaN;
    x[at(3, 5, 3)] = Infinity;
    const parts = await poolCalls(async () => {
      for (const strides of [[2, 2], [1, 1]] as const) {
        await expectWasmMatchesCpu(`pool maxPoolGrad special values, strides ${strides}`, gradOf({ x: shape, filter: [2, 2], strides: [...strides], pad: 'valid' }, x, 21));
      }
    });
    expect(parts).toEqual([1, 1]);
  });

  it('splits a large input by images over the threads', async () => {
    const c: Pool = { x: [5, 64, 64, 64], filter: [2, 2], strides: [2, 2], pad: 'valid' };
    const x = randomSmallIntegers(seededRandom(31), elementCount(c.x));
    const parts = await poolCalls(() => expectWasmMatchesCpu('pool maxPoolGrad large', gradOf(c, x, 32)));
    expect(parts).toEqual([activeKernelPool()!.threads]);
  });
});

describe('wasm FusedBatchNorm', () => {
  it(`matches tfjs-cpu on ${RANDOM_CASES} randomised seeded cases (with and without scale / offset)`, async () => {
    const random = seededRandom(5);
    for (let i = 0; i < RANDOM_CASES; i++) {
      const shape = [randomInt(random, 1, 8), randomInt(random, 1, 20), randomInt(random, 1, 20), randomInt(random, 1, 24)];
      const c = shape[3];
      const r = seededRandom(500 + i);
      const x = randomValues(r, elementCount(shape)).map((v) => v * 3 + 0.5);
      const [mean, variance] = [randomValues(r, c), randomValues(r, c).map((v) => v * v + 0.1)];
      const [offset, scale] = [randomValues(r, c), randomValues(r, c)];
      const withScale = random() < 0.7;
      const withOffset = random() < 0.7;
      const vectorRank4 = random() < 0.3;
      const vec = (v: Float32Array) => (vectorRank4 ? tf.tensor(v, [1, 1, 1, c]) : tf.tensor1d(v));
      await expectWasmMatchesCpu(`batchNorm ${JSON.stringify({ shape, withScale, withOffset, vectorRank4 })}`, () =>
        tf.batchNorm(
          tf.tensor(x, shape),
          vec(mean),
          vec(variance),
          withOffset ? vec(offset) : undefined,
          withScale ? vec(scale) : undefined,
          1e-3,
        ),
      );
    }
  });
});

describe('wasm per-channel Multiply, Add and Sub', () => {
  it(`match tfjs-cpu on ${RANDOM_CASES} randomised seeded cases each, both operand orders`, async () => {
    const random = seededRandom(6);
    for (let i = 0; i < RANDOM_CASES; i++) {
      const rank = randomInt(random, 1, 4);
      const shape = [...randomShape(random, rank - 1, 40), randomInt(random, 2, 70)];
      const c = shape[shape.length - 1];
      const vectorShape = [...new Array(randomInt(random, 0, rank - 1)).fill(1), c];
      const r = seededRandom(600 + i);
      const x = randomValues(r, elementCount(shape));
      const v = randomValues(r, c);
      const vectorFirst = random() < 0.5;
      const label = `${JSON.stringify(shape)} · ${JSON.stringify(vectorShape)} vectorFirst ${vectorFirst}`;
      for (const op of [tf.mul, tf.add, tf.sub]) {
        await expectWasmMatchesCpu(`${op.name} ${label}`, () => {
          const [a, b] = [tf.tensor(x, shape), tf.tensor(v, vectorShape)];
          return vectorFirst ? op(b, a) : op(a, b);
        });
      }
    }
  });

  it('match tfjs-cpu on BatchNormalization-sized tensors and odd row counts', async () => {
    const cases: [number[], number[]][] = [
      [[64, 28, 28, 16], [16]],
      [[64, 14, 14, 32], [1, 1, 1, 32]],
      [[64, 7, 7, 64], [64]],
      [[97, 89, 3], [3]], // rows with no divisor near 256 / 3: stock path
      [[2, 4099], [4099]], // long rows already: stock path
      [[128, 40], [1, 40]],
    ];
    for (const [i, [shape, vectorShape]] of cases.entries()) {
      const r = seededRandom(700 + i);
      const x = randomValues(r, elementCount(shape));
      const v = randomValues(r, elementCount(vectorShape));
      for (const op of [tf.mul, tf.add, tf.sub]) {
        await expectWasmMatchesCpu(`${op.name} ${JSON.stringify(shape)} ${JSON.stringify(vectorShape)}`, () =>
          op(tf.tensor(x, shape), tf.tensor(v, vectorShape)),
        );
        await expectWasmMatchesCpu(`${op.name} vector first ${JSON.stringify(shape)}`, () =>
          op(tf.tensor(v, vectorShape), tf.tensor(x, shape)),
        );
      }
    }
  });

  it('keeps NaN and ±Infinity as tfjs-cpu does', async () => {
    const x = new Float32Array(64 * 128).map((_, i) => [NaN, Infinity, -Infinity, 1.5, 0][i % 5]);
    const v = Float32Array.from({ length: 128 }, (_, i) => [Infinity, -2, 0, NaN][i % 4]);
    for (const op of [tf.mul, tf.add, tf.sub]) {
      for (const vectorFirst of [false, true]) {
        const f = () => (vectorFirst ? op(tf.tensor1d(v), tf.tensor(x, [64, 128])) : op(tf.tensor(x, [64, 128]), tf.tensor1d(v)));
        const ref = Array.from((await runOnBackend('cpu', f)).data);
        const ours = Array.from((await runOnBackend('wasm', f)).data);
        expect(ours.map(String), `${op.name} vectorFirst ${vectorFirst}`).toEqual(ref.map(String));
      }
    }
  });
});

describe('wasm Add, Sub, Multiply and RealDiv on large tensors (every thread in the threaded pass)', () => {
  const threads = Number(process.env.TRAINHOOKS_WASM_THREADS ?? 1);

  it(`${threads > 1 ? 'run on the elementwise pool' : 'stay on one thread'} with ${threads} wasm thread(s)`, () => {
    expect(activeKernelPool()?.threads ?? 1).toBe(threads);
  });

  it('match tfjs-cpu bit for bit: same shape, scalar and per-channel operands, both orders, odd sizes', async () => {
    // Sizes above PARALLEL_BINARY_MIN_SIZE with tails that are no multiple of 4 (or of the thread count).
    const cases: [number[], number[]][] = [
      [[40003], [40003]],
      [[64, 28, 28, 16], [64, 28, 28, 16]],
      [[40003], []],
      [[7, 5717], [1]],
      [[64, 28, 28, 16], [16]],
      [[3001, 37], [1, 37]],
      [[257, 129], [129]],
      // From POOL_SPLIT_MIN_SIZE on, split over the threads in the threaded pass.
      [[1048579], [1048579]],
      [[1048579], []],
      [[65537, 16], [16]],
    ];
    for (const [i, [shape, otherShape]] of cases.entries()) {
      const r = seededRandom(800 + i);
      const x = randomValues(r, elementCount(shape));
      // Away from zero, so that division stays finite and the error measure meaningful.
      const y = randomValues(r, elementCount(otherShape)).map((v) => v + Math.sign(v || 1) * 0.5);
      for (const op of [tf.mul, tf.add, tf.sub, tf.div]) {
        for (const otherFirst of [false, true]) {
          const f = () => {
            const [a, b] = [tf.tensor(x, shape), tf.tensor(y, otherShape)];
            return otherFirst ? op(b, a) : op(a, b);
          };
          const ref = await runOnBackend('cpu', f);
          const ours = await runOnBackend('wasm', f);
          expect(ours.shape).toEqual(ref.shape);
          expect(Buffer.from(ours.data.buffer).equals(Buffer.from(ref.data.buffer)), `${op.name} ${JSON.stringify(shape)} ${JSON.stringify(otherShape)} otherFirst ${otherFirst}`).toBe(true);
        }
      }
    }
  });

  it('leaks nothing', async () => {
    await tf.setBackend('wasm');
    const [a, b] = [tf.ones([300, 300]), tf.ones([300])];
    const before = wasmDataIdCount();
    for (const op of [tf.mul, tf.add, tf.sub, tf.div]) op(a, b).dispose();
    expect(wasmDataIdCount()).toBe(before);
    tf.dispose([a, b]);
  });
});

describe('wasm Identity', () => {
  it('shares data without a copy and frees it when both tensors are gone', async () => {
    await tf.setBackend('wasm');
    const before = wasmDataIdCount();
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    expect(wasmDataIdCount()).toBe(before + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(wasmDataIdCount()).toBe(before);
  });
});

describe('wasm Cast', () => {
  it('to the same dtype shares data without a copy (the ReLU gradient casts float32 to float32)', async () => {
    await tf.setBackend('wasm');
    const before = wasmDataIdCount();
    const x = tf.tensor([1.5, -2, 3]);
    const y = tf.cast(x, 'float32');
    const i = tf.tensor([4, 5], undefined, 'int32');
    const j = tf.cast(i, 'int32');
    expect(wasmDataIdCount()).toBe(before + 2);
    tf.dispose([x, i]);
    expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3]);
    expect(Array.from(j.dataSync())).toEqual([4, 5]);
    tf.dispose([y, j]);
    expect(wasmDataIdCount()).toBe(before);
  });

  it('converts between dtypes as tfjs-cpu does (to bool: x ≠ 0, where stock wasm stored each number in a byte)', async () => {
    const values = [1.7, -2.2, 0, 3.5, -0.4, 256, NaN];
    for (const [from, to] of [['float32', 'int32'], ['float32', 'bool'], ['int32', 'float32'], ['bool', 'float32'], ['int32', 'bool']] as const) {
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const source = tf.cast(tf.tensor(values), from);
        const out = tf.cast(source, to);
        const result = { dtype: out.dtype, data: Array.from(out.dataSync()) };
        tf.dispose([source, out]);
        return result;
      };
      expect(await run('wasm'), `${from} → ${to}`).toEqual(await run('cpu'));
    }
  });
});

describe('a training step end to end', () => {
  it('gives the gradients of tfjs-cpu for conv → batch norm → relu → max pool → dense, and leaks nothing', async () => {
    const random = seededRandom(7);
    const x = randomValues(random, 8 * 12 * 12 * 3);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32'), 5).arraySync() as number[][];
    const grads = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const input = tfl.input({ shape: [12, 12, 3] });
      const seededInit = (seed: number) => tfl.initializers.glorotUniform({ seed });
      let h = tfl.layers
        .conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: seededInit(1) })
        .apply(input) as tfl.SymbolicTensor;
      h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
      h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
      h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
      h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
      const out = tfl.layers
        .dense({ units: 5, activation: 'softmax', kernelInitializer: seededInit(2) })
        .apply(h) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: out });
      const before = tf.findBackend(backend)!.numDataIds();
      const { grads: g, value } = tf.variableGrads(() =>
        tf.losses.softmaxCrossEntropy(tf.tensor2d(labels), model.apply(tf.tensor(x, [8, 12, 12, 3]), { training: true }) as tf.Tensor),
      );
      const names = Object.keys(g).sort();
      const flat = tf.concat(names.map((n) => tf.reshape(g[n], [-1])));
      const result = Array.from(flat.dataSync());
      tf.dispose([flat, value, ...Object.values(g)]);
      const leaked = tf.findBackend(backend)!.numDataIds() - before;
      model.layers.forEach((layer) => layer.dispose());
      return { result, leaked, count: names.length };
    };
    const ref = await grads('cpu');
    const ours = await grads('wasm');
    expect(ours.count).toBe(ref.count);
    expectWithinTolerance(ours.result, ref.result);
    expect(ours.leaked).toBe(ref.leaked);
  });
});
