// Checkpoints of the per-variable optimizer state, and its exchange with the model's own optimizer.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, HookStage, type StatefulPlugin, type Trainer } from '@trainhooks/core-hooks';
import { bitIdentical, copyWeights, denseModel, maxAbsDiff, toyData, useCpu } from './helpers.js';

beforeAll(useCpu);

/** Skips one variable on odd steps: the optimizer state goes per variable, with unequal counts. */
function skipOddSteps(variable: () => string): StatefulPlugin {
  return {
    name: 'skip-odd',
    // Stateless: it implements the state contract with an empty state.
    stateKey: 'skip-odd',
    stateVersion: 1,
    exportState: () => ({}),
    importState: () => {},
    apply: (t) => t.hooks.beforeForward.tap({ name: 'skip-odd', stage: HookStage.PRUNE }, (c) => void (c.step % 2 && c.skip.add(variable()))),
  };
}

/** A plugin with state of its own, to check that checkpoints carry it. */
class CountingPlugin implements StatefulPlugin<{ steps: number }> {
  readonly name = 'counting';
  readonly stateKey = 'counting';
  readonly stateVersion = 1;
  steps = 0;
  apply(t: Trainer) {
    t.hooks.afterStep.tap(this.name, () => void this.steps++);
  }
  exportState() {
    return { steps: this.steps };
  }
  importState(state: { steps: number }) {
    this.steps = state.steps;
  }
}

function adamTrainer(model: tfl.LayersModel, partial: boolean) {
  const trainer = createTrainer(model, { optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  if (partial) trainer.use(skipOddSteps(() => trainer.units[1]!.variables[0]!.name));
  return trainer.use(new CountingPlugin());
}

function weightsOf(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('exportState / importState: exact resume', () => {
  for (const partial of [false, true]) {
    it(`Adam state ${partial ? 'with partial updates (unequal counts)' : 'with every variable updated each step'}: the resumed trainer continues bit-identically`, async () => {
      const { x, y } = toyData(16, 8, 3);
      const original = denseModel(5);
      const trainer = adamTrainer(original, partial);
      for (let i = 0; i < 6; i++) await trainer.step({ x, y });

      // Checkpoint: weights through the model, the rest through exportState (structured-clone safe).
      const state = structuredClone(await trainer.exportState());
      const restoredModel = denseModel(99);
      copyWeights(original, restoredModel);
      const restored = adamTrainer(restoredModel, partial);
      await restored.importState(state);
      expect(restored.globalStep).toBe(6);
      expect((state.plugins.counting!.state as { steps: number }).steps).toBe(6);

      for (let i = 0; i < 4; i++) {
        await trainer.step({ x, y });
        await restored.step({ x, y });
      }
      const expected = weightsOf(original);
      weightsOf(restoredModel).forEach((w, i) => expect(bitIdentical(w, expected[i]!)).toBe(true));
      const exported = await restored.exportState();
      expect((exported.plugins.counting!.state as { steps: number }).steps).toBe(10);
      tf.dispose([x, y]);
    });
  }

  it('refuses state of another optimizer class, or of plugins it does not use', async () => {
    const { x, y } = toyData(8, 8, 3);
    const trainer = adamTrainer(denseModel(1), false);
    await trainer.step({ x, y });
    const state = await trainer.exportState();
    const sgd = createTrainer(denseModel(1), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' }).use(new CountingPlugin());
    await expect(sgd.importState(state)).rejects.toThrow(/optimizer state of a Adam cannot be loaded into a SGD/);
    const bare = createTrainer(denseModel(1), { optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await expect(bare.importState(state)).rejects.toThrow(/another plugin set: it holds state of counting, which this trainer does not use/);
    await expect(bare.importState({ version: 1 } as never)).rejects.toThrow(/trainer state version 1 cannot be read by this version \(2\)/);
    const wider = adamTrainer(denseModel(1, [8, 20, 16, 3]), false);
    await expect(wider.importState(state)).rejects.toThrow(/optimizer slot m of .* has shape \[8,16\], but variable .* has shape \[8,20\]/);
    tf.dispose([x, y]);
  });
});

describe("the model's own optimizer", () => {
  const fitOptions = { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 as const };

  it('trainer.fit continues from the state model.fit left (2 + 2 epochs equal 4 epochs of model.fit)', async () => {
    const { x, y } = toyData(32, 8, 3);
    const [reference, ours] = [denseModel(3), denseModel(3)];
    for (const model of [reference, ours]) model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await reference.fit(x, y, { ...fitOptions, epochs: 4 });
    await ours.fit(x, y, fitOptions);
    await createTrainer(ours).fit(x, y, fitOptions);
    const expected = reference.getWeights();
    ours.getWeights().forEach((w, i) => expect(maxAbsDiff(w, expected[i]!)).toBeLessThan(1e-5));
    tf.dispose([x, y]);
  });

  it('syncModelOptimizer hands the state back: model.fit after trainer.fit equals model.fit throughout', async () => {
    const { x, y } = toyData(32, 8, 3);
    const [reference, ours] = [denseModel(4), denseModel(4)];
    for (const model of [reference, ours]) model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await reference.fit(x, y, { ...fitOptions, epochs: 4 });
    const trainer = createTrainer(ours);
    await trainer.fit(x, y, fitOptions);
    await trainer.syncModelOptimizer();
    const before = tf.memory().numTensors;
    await trainer.syncModelOptimizer(); // again: the replaced slots are freed, not leaked
    expect(tf.memory().numTensors).toBe(before);
    await ours.fit(x, y, fitOptions);
    const expected = reference.getWeights();
    ours.getWeights().forEach((w, i) => expect(maxAbsDiff(w, expected[i]!)).toBeLessThan(1e-5));
    tf.dispose([x, y]);
  });

  it('syncModelOptimizer refuses what cannot be exact: Adam variables updated unequally often', async () => {
    const { x, y } = toyData(16, 8, 3);
    const model = denseModel(6);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const trainer = createTrainer(model);
    trainer.use(skipOddSteps(() => trainer.units[0]!.variables[0]!.name));
    for (let i = 0; i < 3; i++) await trainer.step({ x, y });
    await expect(trainer.syncModelOptimizer()).rejects.toThrow(/Adam keeps one update count for all variables, but these were updated 2, 3 times|3, 2 times/);
    const raw = createTrainer({ units: trainer.units }, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    await expect(raw.syncModelOptimizer()).rejects.toThrow(/needs a compiled LayersModel/);
    tf.dispose([x, y]);
  });
});
