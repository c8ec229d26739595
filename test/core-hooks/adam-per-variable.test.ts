import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamPerVariable } from '../../packages/core-hooks/src/adam-per-variable.js';
import { ClonePerVariable, type PerVariableStore } from '../../packages/core-hooks/src/per-variable-store.js';
import { RmsPropPerVariable } from '../../packages/core-hooks/src/rmsprop-per-variable.js';
import { bitIdentical, useCpu } from './helpers.js';
import '@tensorflow/tfjs-backend-wasm';

const SHAPES = [[8, 16], [16], [16, 3], [3]];

function variables(tag: string): tf.Variable[] {
  return SHAPES.map((shape, i) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 100 + i), true, `${tag}_${i}`));
}

/** Step t updates a fixed pattern of subsets; gradients are seeded by step and variable (seed 0 means unseeded in tfjs). */
function subsetAt(step: number): number[] {
  const all = SHAPES.map((_, i) => i);
  return step % 5 === 0 ? all : all.filter((i) => (step * 7 + i * 3) % 4 !== 0);
}

async function run(store: { apply(g: Record<string, tf.Tensor>): void }, vars: tf.Variable[], steps: number) {
  for (let step = 0; step < steps; step++) {
    const gradients = Object.fromEntries(
      subsetAt(step).map((i) => [vars[i]!.name, tf.randomNormal(SHAPES[i]!, 0, 1, 'float32', step * 10 + i + 1)] as const),
    );
    store.apply(gradients);
    tf.dispose(Object.values(gradients));
  }
}

/** Each store against one tfjs optimizer per variable, with the same configuration. */
const STORES: Record<string, { ours: () => PerVariableStore; tfjs: () => tf.Optimizer }> = {
  AdamPerVariable: {
    ours: () => new AdamPerVariable({ learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
    tfjs: () => tf.train.adam(0.01, 0.9, 0.999, 1e-7),
  },
  RmsPropPerVariable: {
    ours: () => new RmsPropPerVariable({ learningRate: 0.01, decay: 0.9, momentum: 0.5, epsilon: 1e-7 }),
    tfjs: () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7),
  },
};

describe('per-variable stores: the cost of a shared update, the arithmetic of one tfjs optimizer per variable', () => {
  for (const [storeName, { ours: makeOurs, tfjs }] of Object.entries(STORES)) {
    for (const backend of ['cpu', 'wasm']) {
      it(`${storeName}, ${backend} (tfjs ops): bit-identical weights, slots and counts to tfjs clones over 40 steps of varying subsets`, async () => {
        if (backend === 'cpu') await useCpu();
        else await tf.setBackend('wasm');
        await tf.ready();
        const [ours, theirs] = [variables(`${storeName}_${backend}_ours`), variables(`${storeName}_${backend}_theirs`)];
        const fast = makeOurs();
        const clones = new ClonePerVariable(tfjs);
        await run(fast, ours, 40);
        await run(clones, theirs, 40);
        for (let i = 0; i < SHAPES.length; i++) {
          expect(bitIdentical(ours[i]!.dataSync(), theirs[i]!.dataSync())).toBe(true);
          const [a, b] = [await fast.read(ours[i]!.name), await clones.read(theirs[i]!.name)];
          expect(a!.iterations).toBe(b!.iterations);
          expect(a!.slots.map((slot) => slot.name)).toEqual(b!.slots.map((slot) => slot.name.replace('_theirs', '_ours')));
          a!.slots.forEach((slot, s) => expect(bitIdentical(slot.values, b!.slots[s]!.values)).toBe(true));
          expect(a!.runningScalars).toEqual(b!.runningScalars);
        }
        // State written into a fresh store continues identically.
        const copy = makeOurs();
        const copied = variables(`${storeName}_${backend}_copy`);
        copied.forEach((v, i) => v.assign(ours[i]!));
        for (let i = 0; i < SHAPES.length; i++) await copy.write(copied[i]!.name, (await fast.read(ours[i]!.name))!);
        const before = tf.memory().numTensors;
        await run(fast, ours, 10);
        await run(copy, copied, 10);
        expect(tf.memory().numTensors).toBe(before);
        copied.forEach((v, i) => expect(bitIdentical(v.dataSync(), ours[i]!.dataSync())).toBe(true));
        for (const store of [fast, clones, copy]) store.dispose();
        tf.dispose([...ours, ...theirs, ...copied]);
      });
    }
  }
});
