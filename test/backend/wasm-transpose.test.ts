// Our cache-blocked wasm Transpose against stock tfjs-cpu: every element in place, for random shapes
// and permutations of rank 1–6, three dtypes, size-1 axes, empty tensors and activation-sized tensors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { WASM_KERNELS } from '@trainhooks/backend/internal';
import { seededRandom } from '@trainhooks/cli/internal';
import { randomInt, runOnBackend, useBackendWithKernels, wasmDataIdCount } from './kernel-test-helpers.js';

beforeAll(async () => {
  await useBackendWithKernels('wasm', WASM_KERNELS);
});

function shuffled(random: () => number, n: number): number[] {
  const perm = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(random, 0, i);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return perm;
}

async function expectSameAsCpu(shape: number[], perm: number[], dtype: 'float32' | 'int32' | 'bool'): Promise<void> {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, (_, i) => (dtype === 'bool' ? i % 3 === 0 : dtype === 'int32' ? i - 7 : i * 0.5 - 3));
  const make = () => tf.transpose(tf.tensor(values as never, shape, dtype), perm);
  const ref = await runOnBackend('cpu', make);
  const ours = await runOnBackend('wasm', make);
  const label = `${dtype} [${shape}] perm [${perm}]`;
  expect(ours.shape, label).toEqual(ref.shape);
  expect(ours.dtype, label).toBe(dtype);
  expect(Array.from(ours.data), label).toEqual(Array.from(ref.data));
}

describe('wasm Transpose', () => {
  it('matches tfjs-cpu on 120 random shapes and permutations of rank 1–6', async () => {
    const random = seededRandom(11);
    for (let i = 0; i < 120; i++) {
      const rank = randomInt(random, 1, 6);
      const shape = Array.from({ length: rank }, () => randomInt(random, 1, rank > 4 ? 4 : 9));
      const dtype = (['float32', 'int32', 'bool'] as const)[i % 3]!;
      await expectSameAsCpu(shape, shuffled(random, rank), dtype);
    }
  });

  it('matches on tiles that do not divide the axes, size-1 axes, identity perms and empty tensors', async () => {
    const cases: Array<[number[], number[]]> = [
      [[17, 33], [1, 0]],
      [[3, 1, 5, 1], [3, 2, 1, 0]],
      [[1, 1, 1], [2, 0, 1]],
      [[4, 5, 6], [0, 1, 2]],
      [[0, 3], [1, 0]],
      [[5, 6, 7, 8], [0, 2, 1, 3]],
      [[5, 6, 7, 8], [1, 0, 3, 2]],
    ];
    for (const [shape, perm] of cases) await expectSameAsCpu(shape, perm, 'float32');
  });

  it('transposes activation-sized tensors the way the filter gradient and matmuls do, without leaking', async () => {
    const before = wasmDataIdCount();
    await expectSameAsCpu([64, 26, 26, 32], [3, 1, 2, 0], 'float32');
    await expectSameAsCpu([64, 24, 24, 32], [1, 2, 0, 3], 'float32');
    await expectSameAsCpu([784, 512], [1, 0], 'float32');
    expect(wasmDataIdCount()).toBe(before);
  });
});
