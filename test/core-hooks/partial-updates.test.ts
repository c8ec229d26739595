import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, HookStage, type Trainer } from '@trainhooks/core-hooks';
import { bitIdentical, denseModel, toyData, useCpu } from './helpers.js';

beforeAll(useCpu);

/** A test plugin: skips one variable on the steps where `active()` says so. */
function skipVariable(name: string, active: () => boolean) {
  return {
    name: 'SkipVariable',
    apply(trainer: Trainer) {
      trainer.hooks.beforeForward.tap({ name: 'SkipVariable', stage: HookStage.PRUNE }, (context) => {
        if (active()) context.skip.add(name);
      });
    },
  };
}

/** [iterations, ...slot values] of one variable's optimizer state, as a checkpoint holds it. */
async function slotValues(trainer: Trainer, name: string): Promise<Float32Array[]> {
  const position = trainer.variables.findIndex((variable) => variable.name === name);
  const state = (await trainer.exportState()).optimizer.variables[position];
  return state ? [Float32Array.of(state.iterations), ...state.slots.map((slot) => Float32Array.from(slot.values))] : [];
}

describe('partial updates keep skipped variables and their optimizer slots intact', () => {
  const OPTIMIZERS: Record<string, { make: () => tf.Optimizer; slots: number }> = {
    sgd: { make: () => tf.train.sgd(0.1), slots: 1 }, // iterations
    momentum: { make: () => tf.train.momentum(0.05, 0.9), slots: 2 }, // iterations, accumulation
    adam: { make: () => tf.train.adam(0.01), slots: 3 }, // iterations, first and second moment
    rmsprop: { make: () => tf.train.rmsprop(0.01), slots: 3 }, // iterations, mean square, moment
    adagrad: { make: () => tf.train.adagrad(0.1), slots: 2 }, // iterations, accumulated square
  };
  for (const [optimizerName, { make, slots }] of Object.entries(OPTIMIZERS)) {
    it(`${optimizerName}: a middle variable skipped for 10 steps keeps value and slots bit-identical`, async () => {
      const { x, y } = toyData(64, 8, 3, 11);
      const trainer = createTrainer(denseModel(21), { optimizer: make(), loss: 'categoricalCrossentropy' });
      const middle = trainer.units[1]!.variables[0]!; // kernel of the second dense layer
      let skipping = false;
      trainer.use(skipVariable(middle.name, () => skipping));
      for (let i = 0; i < 3; i++) await trainer.step({ x, y }); // give it slots first
      const valueBefore = middle.dataSync().slice();
      const slotsBefore = await slotValues(trainer, middle.name);
      const othersBefore = trainer.variables.filter((v) => v !== middle).map((v) => v.dataSync().slice());
      skipping = true;
      for (let i = 0; i < 10; i++) await trainer.step({ x, y });

      expect(bitIdentical(middle.dataSync(), valueBefore)).toBe(true);
      const slotsAfter = await slotValues(trainer, middle.name);
      expect(slotsBefore.length).toBe(slots);
      slotsAfter.forEach((slot, i) => expect(bitIdentical(slot, slotsBefore[i]!)).toBe(true));
      // …while every other variable kept training.
      trainer.variables
        .filter((v) => v !== middle)
        .forEach((v, i) => expect(bitIdentical(v.dataSync(), othersBefore[i]!)).toBe(false));
      tf.dispose([x, y]);
    });
  }

  it('adam: the other variables equal a reference run in which the skipped variable never was in the list', async () => {
    const { x, y } = toyData(64, 8, 3, 12);
    const batches = Array.from({ length: 10 }, (_, i) => ({
      x: tf.slice(x, (i * 16) % 64, 16),
      y: tf.slice(y, (i * 16) % 64, 16),
    }));
    const ours = denseModel(22);
    const reference = denseModel(22);
    const trainer = createTrainer(ours, { optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const middle = trainer.units[1]!.variables[0]!;
    trainer.use(skipVariable(middle.name, () => true));
    const initialMiddle = middle.dataSync().slice();

    // The reference is a hand-written loop: one ordinary Adam over the list without that variable.
    const referenceOptimizer = tf.train.adam(0.01);
    const referenceVariables = reference.trainableWeights.map((w) => w.read() as tf.Variable);
    const listWithoutMiddle = referenceVariables.filter((_, i) => i !== 2);
    const categoricalCrossentropy = (batch: (typeof batches)[number]) => () =>
      tf.mean(
        tf.neg(tf.sum(tf.mul(batch.y, tf.log(tf.clipByValue(reference.apply(batch.x) as tf.Tensor, 1e-7, 1 - 1e-7))), -1)),
      ) as tf.Scalar;
    for (const batch of batches) {
      await trainer.step(batch);
      referenceOptimizer.minimize(categoricalCrossentropy(batch), false, listWithoutMiddle);
    }

    expect(bitIdentical(middle.dataSync(), initialMiddle)).toBe(true);
    ours.trainableWeights.forEach((weight, i) => {
      if (i === 2) return;
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(weight.read(), referenceVariables[i]!))).dataSync()[0]!);
      expect(diff).toBeLessThan(1e-6);
    });
    tf.dispose([x, y, ...batches.flatMap((b) => [b.x, b.y])]);
  });

  it('why: one tfjs Adam given a different variable subset per step breaks (tfjs#4290)', () => {
    const model = denseModel(23);
    const { x, y } = toyData(16, 8, 3, 13);
    const optimizer = tf.train.adam(0.01);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () => tf.mean(tf.square(tf.sub(model.apply(x) as tf.Tensor, y))) as tf.Scalar;
    optimizer.minimize(loss, false, variables);
    expect(() => optimizer.minimize(loss, false, variables.filter((_, i) => i !== 2))).toThrow(/shape/);
    tf.dispose([x, y]);
  });

  it('the skipped variable resumes with its own slots, unaffected by steps it missed', async () => {
    const { x, y } = toyData(32, 8, 3, 4);
    const model = denseModel(5);
    let skipping = false;
    const trainer = createTrainer(model, { optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const target = trainer.units[2]!.variables[1]!; // a bias
    trainer.use(skipVariable(target.name, () => skipping));
    await trainer.step({ x, y });
    skipping = true;
    for (let i = 0; i < 5; i++) await trainer.step({ x, y });
    skipping = false;
    const before = target.dataSync().slice();
    await trainer.step({ x, y });
    expect(bitIdentical(target.dataSync(), before)).toBe(false);
    // Its optimizer counted 2 own updates, not 7: the 5 skipped steps left no trace in its state.
    const [iterations] = await slotValues(trainer, target.name);
    expect(Array.from(iterations!)).toEqual([2]);
    const [otherIterations] = await slotValues(trainer, trainer.units[0]!.variables[0]!.name);
    expect(Array.from(otherIterations!)).toEqual([7]);
    tf.dispose([x, y]);
  });
});
