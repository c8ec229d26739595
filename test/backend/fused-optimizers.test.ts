// The fused optimizer kernels (core-hooks' FUSED_ADAM_KERNEL and FUSED_RMSPROP_KERNEL; backend: wasm's SIMD
// loops on the kernel pool, cpu's JavaScript loops) through the stores that call them, against tfjs' own
// optimizers, one per variable: weights, slots and counts bit-identical over steps of varying subsets,
// on odd sizes (the SIMD loop's one-lane tail) and on a variable large enough to be split over the
// pool's threads in the threaded pass.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { CPU_KERNELS, WASM_KERNELS } from '@trainhooks/backend/internal';
import { AdamPerVariable, ClonePerVariable, hasFusedAdam, hasFusedRmsProp, RmsPropPerVariable, type PerVariableStore } from '@trainhooks/core-hooks/internal';
import { activeKernelPool } from '../../packages/backend/src/wasm-threads/active-kernel-pool.js';
import { FUSED_ADAM_FUNCTION } from '../../packages/backend/src/wasm-threads/fused-adam-wat.js';
import { FUSED_RMSPROP_FUNCTION } from '../../packages/backend/src/wasm-threads/fused-rmsprop-wat.js';
import { useBackendWithKernels } from './kernel-test-helpers.js';

const SHAPES = [[7], [33, 5], [64, 3, 3, 2], [1048579]];

/** Each fused update: the store that calls it, tfjs' optimizer, and what says the backend has it. */
const OPTIMIZERS = {
  adam: {
    store: (): PerVariableStore => new AdamPerVariable({ learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
    tfjs: () => tf.train.adam(0.003, 0.9, 0.999, 1e-7),
    fused: hasFusedAdam,
    poolFunction: FUSED_ADAM_FUNCTION,
  },
  rmsprop: {
    store: (): PerVariableStore => new RmsPropPerVariable({ learningRate: 0.003, decay: 0.9, momentum: 0.7, epsilon: 1e-7 }),
    tfjs: () => tf.train.rmsprop(0.003, 0.9, 0.7, 1e-7),
    fused: hasFusedRmsProp,
    poolFunction: FUSED_RMSPROP_FUNCTION,
  },
};

function variables(tag: string): tf.Variable[] {
  return SHAPES.map((shape, i) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 300 + i), true, `fused_${tag}_${i}`));
}

/** Gradients of varying scale (zeros too: v stays 0 and ε decides), seeded by step; some steps leave variables out. */
function gradientsAt(step: number, vars: tf.Variable[]): Record<string, tf.Tensor> {
  const chosen = vars.filter((_, i) => step % 4 === 0 || (step + i) % 3 !== 0);
  return Object.fromEntries(
    chosen.map((v, i) => {
      const scale = [1, 1e-3, 30, 0][(step + i) % 4]!;
      return [v.name, tf.tidy(() => tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', step * 10 + i + 1), scale))] as const;
    }),
  );
}

async function train(store: { apply(g: Record<string, tf.Tensor>): void }, vars: tf.Variable[], steps: number): Promise<void> {
  for (let step = 0; step < steps; step++) {
    const gradients = gradientsAt(step, vars);
    store.apply(gradients);
    tf.dispose(Object.values(gradients));
  }
}

function bitIdentical(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const [x, y] = [new Uint32Array(Float32Array.from(a).buffer), new Uint32Array(Float32Array.from(b).buffer)];
  return x.length === y.length && x.every((bits, i) => bits === y[i]);
}

afterEach(() => vi.restoreAllMocks());

describe('fused optimizer kernels', () => {
  for (const [optimizer, { store, tfjs, fused: hasKernel, poolFunction }] of Object.entries(OPTIMIZERS)) {
    for (const backend of ['cpu', 'wasm'] as const) {
      it(`${optimizer}, ${backend}: bit-identical to tfjs (one optimizer per variable) over 12 steps; no tensors left behind`, async () => {
        await useBackendWithKernels(backend, backend === 'cpu' ? CPU_KERNELS : WASM_KERNELS);
        expect(hasKernel()).toBe(true);
        const pool = backend === 'wasm' ? activeKernelPool() : null;
        const runs = pool ? vi.spyOn(pool, 'run') : null;
        const [ours, theirs] = [variables(`${optimizer}_${backend}_ours`), variables(`${optimizer}_${backend}_theirs`)];
        const fused = store();
        const clones = new ClonePerVariable(tfjs);
        const before = tf.memory().numTensors;
        await train(fused, ours, 12);
        await train(clones, theirs, 12);
        for (let i = 0; i < SHAPES.length; i++) {
          expect(bitIdentical(ours[i]!.dataSync(), theirs[i]!.dataSync()), `weights of ${SHAPES[i]}`).toBe(true);
          const [a, b] = [await fused.read(ours[i]!.name), await clones.read(theirs[i]!.name)];
          expect(a!.iterations).toBe(b!.iterations);
          a!.slots.forEach((slot, s) => expect(bitIdentical(slot.values, b!.slots[s]!.values), `slot ${s} of ${SHAPES[i]}`).toBe(true));
        }
        if (runs) {
          const calls = runs.mock.calls.filter(([name]) => name === poolFunction);
          expect(calls.length).toBeGreaterThan(0);
          // The large variable is split over the pool's threads (one part on one thread).
          expect(Math.max(...calls.map(([, parts]) => parts.length))).toBe(pool!.threads);
        }
        fused.dispose();
        clones.dispose();
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([...ours, ...theirs]);
      });
    }
  }
});
