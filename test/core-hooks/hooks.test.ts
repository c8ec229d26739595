import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, HookStage, type StepContext, type Unit } from '@trainhooks/core-hooks';
import { denseModel, maxAbsDiff, toyData, useCpu } from './helpers.js';

beforeAll(useCpu);

function newTrainer(seed = 1) {
  return createTrainer(denseModel(seed), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}

/**
 * Every variable's optimizer runs at `rate`: a step of `trainer` moves each weight by what a step of a
 * fresh trainer at that rate, from the same weights, moves it (SGD: the update is rate × gradient).
 */
async function expectEveryVariableAtRate(trainer: ReturnType<typeof newTrainer>, rate: number, seed: number) {
  const fresh = createTrainer(denseModel(seed), { optimizer: tf.train.sgd(rate), loss: 'categoricalCrossentropy' });
  fresh.variables.forEach((variable, i) => variable.assign(trainer.variables[i]!));
  const { x, y } = toyData(4, 8, 3, 7);
  await trainer.step({ x, y });
  await fresh.step({ x, y });
  expect(trainer.variables.length).toBeGreaterThan(1);
  trainer.variables.forEach((variable, i) => expect(maxAbsDiff(variable, fresh.variables[i]!)).toBeLessThan(1e-7));
  tf.dispose([x, y]);
  await fresh.dispose();
}

describe('hook bus and step context', () => {
  it('fires step hooks in order, with the plugin stages deciding precedence', async () => {
    const trainer = newTrainer();
    const calls: string[] = [];
    trainer.use({
      apply(t) {
        t.hooks.setup.tap('p', () => void calls.push('setup'));
        t.hooks.beforeEpoch.tap('p', () => void calls.push('beforeEpoch'));
        t.hooks.beforeStep.tap('p', () => void calls.push('beforeStep'));
        t.hooks.beforeForward.tap({ name: 'cache', stage: HookStage.CACHE }, () => void calls.push('cache'));
        t.hooks.beforeForward.tap({ name: 'freeze', stage: HookStage.FREEZE }, () => void calls.push('freeze'));
        t.hooks.afterForward.tap('p', (c) => void calls.push(`afterForward:${c.loss !== null && c.output !== null}`));
        t.hooks.afterBackward.tap('p', (c) => void calls.push(`afterBackward:${Object.keys(c.gradients).length}`));
        t.hooks.beforeAllReduce.tap('p', (g) => (calls.push('beforeAllReduce'), g));
        t.hooks.beforeUpdate.tap('p', () => void calls.push('beforeUpdate'));
        t.hooks.afterStep.tap('p', (c) => void calls.push(`afterStep:${typeof c.logs.loss}`));
        t.hooks.afterEpoch.tap('p', (e) => void calls.push(`afterEpoch:${typeof e.logs.loss}`));
      },
    });
    const { x, y } = toyData(8, 8, 3);
    await trainer.fit(x, y, { epochs: 1, batchSize: 8 });
    expect(calls).toEqual([
      'setup',
      'beforeEpoch',
      'beforeStep',
      'freeze',
      'cache',
      'afterForward:true',
      'afterBackward:6',
      'beforeAllReduce',
      'beforeUpdate',
      'afterStep:number',
      'afterEpoch:number',
    ]);
    tf.dispose([x, y]);
  });

  it('gives each step its sample ids and the next batch ids (lookahead, across epochs)', async () => {
    const trainer = newTrainer();
    const seen: Array<[number[], number[] | null]> = [];
    trainer.use({
      apply(t) {
        t.hooks.beforeStep.tap('ids', (c) => void seen.push([Array.from(c.ids!), c.nextIds ? Array.from(c.nextIds) : null]));
      },
    });
    const { x, y } = toyData(10, 8, 3);
    await trainer.fit(x, y, { epochs: 2, batchSize: 4, shuffle: true });
    expect(seen).toHaveLength(6);
    for (let epoch = 0; epoch < 2; epoch++) {
      const steps = seen.slice(epoch * 3, epoch * 3 + 3);
      expect(steps.flatMap(([ids]) => ids).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(steps[0]![1]).toEqual(steps[1]![0]);
      expect(steps[1]![1]).toEqual(steps[2]![0]);
    }
    // The last batch of epoch 1 names the first of epoch 2; the very last names none.
    expect(seen[2]![1]).toEqual(seen[3]![0]);
    expect(seen[5]![1]).toBeNull();
    tf.dispose([x, y]);
  });

  it('a forward that starts at the frozen prefix does not run the prefix at all', async () => {
    const { x, y } = toyData(8, 8, 3);
    const base = denseModel(4);
    const trainer = createTrainer(base, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    let prefixRuns = 0;
    const units: Unit[] = trainer.units.map((unit, index) =>
      index === 0 ? { ...unit, name: unit.name, variables: unit.variables, apply: (t, o) => (prefixRuns++, unit.apply(t, o)) } : unit,
    );
    const spied = createTrainer({ units }, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const cached = tf.tidy(() => units[0]!.apply(x, { training: false }));
    spied.frozenPrefix = 1;
    spied.use({
      apply(t) {
        t.hooks.beforeForward.tap({ name: 'cache', stage: HookStage.CACHE }, (c: StepContext) => {
          c.forwardStart = { unit: 1, input: cached };
        });
      },
    });
    prefixRuns = 0;
    await spied.step({ x, y });
    expect(prefixRuns).toBe(0);
    expect(spied.stats().counters.skippedUnitForwards).toBe(1);
    expect(cached.isDisposed).toBe(false);
    tf.dispose([x, y, cached]);
    void trainer;
  });

  it('rejects a forward start beyond the frozen prefix', async () => {
    const trainer = newTrainer();
    const { x, y } = toyData(4, 8, 3);
    trainer.use({
      apply(t) {
        t.hooks.beforeForward.tap('bad', (c) => void (c.forwardStart = { unit: 2, input: x }));
      },
    });
    await expect(trainer.step({ x, y })).rejects.toThrow(/frozen/);
    tf.dispose([x, y]);
  });

  it('setLearningRate fires lrChange once per change and reaches every optimizer', async () => {
    const trainer = newTrainer();
    const changes: Array<[number, number]> = [];
    trainer.use({ apply: (t) => t.hooks.lrChange.tap('lr', (c) => void changes.push([c.previous, c.next])) });
    const { x, y } = toyData(4, 8, 3);
    await trainer.step({ x, y });
    await trainer.setLearningRate(0.01);
    await trainer.setLearningRate(0.01);
    expect(changes).toEqual([[0.1, 0.01]]);
    expect(trainer.learningRate).toBe(0.01);
    await expectEveryVariableAtRate(trainer, 0.01, 1);
    tf.dispose([x, y]);
  });

  it('follows a rate set the tfjs way on the compiled optimizer (a callback schedule), with lrChange, like model.fit', async () => {
    const model = denseModel(1);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const trainer = createTrainer(model);
    const changes: Array<[number, number]> = [];
    trainer.use({ apply: (t) => t.hooks.lrChange.tap('lr', (c) => void changes.push([c.previous, c.next])) });
    const { x, y } = toyData(16, 8, 3);
    await trainer.fit(x, y, {
      epochs: 2,
      batchSize: 8,
      callbacks: { onEpochEnd: (epoch) => void ((model.optimizer as unknown as { learningRate: number }).learningRate = 0.1 / (10 * (epoch + 1))) },
    });
    // The rate set after epoch 0 took effect from the first step of epoch 1; the one after epoch 1 at the next step.
    expect(changes).toEqual([[0.1, 0.01]]);
    expect(trainer.learningRate).toBe(0.01);
    await trainer.step({ x, y });
    expect(changes).toEqual([[0.1, 0.01], [0.01, 0.005]]);
    expect(trainer.learningRate).toBe(0.005);
    await expectEveryVariableAtRate(trainer, 0.005, 1);
    tf.dispose([x, y]);
  });

  it('emits step events and keeps latency histograms and counters', async () => {
    const trainer = newTrainer();
    const events: number[] = [];
    trainer.events.on('step', (e) => events.push(e.step));
    const { x, y } = toyData(16, 8, 3);
    trainer.frozenPrefix = 1;
    await trainer.fit(x, y, { epochs: 1, batchSize: 4 });
    expect(events).toEqual([0, 1, 2, 3]);
    const stats = trainer.stats();
    for (const phase of ['forward', 'backward', 'update', 'step']) {
      expect(stats.phases[phase]!.count).toBe(4);
      expect(stats.phases[phase]!.p99Us).toBeGreaterThanOrEqual(stats.phases[phase]!.p50Us);
    }
    expect(stats.counters.steps).toBe(4);
    expect(stats.counters.samples).toBe(16);
    expect(stats.counters.frozenUnitSteps).toBe(4);
    expect(stats.counters.skippedVariableUpdates).toBe(8); // 2 variables of the frozen unit × 4 steps
    tf.dispose([x, y]);
  });

  it('fitDataset trains over an async iterator and passes dataset ids through', async () => {
    const trainer = newTrainer();
    const { x, y } = toyData(12, 8, 3);
    const seenIds: number[][] = [];
    trainer.use({ apply: (t) => t.hooks.beforeStep.tap('ids', (c) => void seenIds.push(Array.from(c.ids!))) });
    const dataset = {
      async iterator() {
        let start = 0;
        return {
          async next(): Promise<IteratorResult<{ xs: tf.Tensor; ys: tf.Tensor; ids: Int32Array }>> {
            if (start >= 12) return { done: true, value: undefined };
            const batch = { xs: tf.slice(x, start, 4), ys: tf.slice(y, start, 4), ids: Int32Array.from([0, 1, 2, 3], (i) => 100 + start + i) };
            start += 4;
            return { done: false, value: batch };
          },
        };
      },
    };
    await trainer.fitDataset(dataset, { epochs: 1 }); // creates the per-variable optimizers
    seenIds.length = 0;
    const before = tf.memory().numTensors;
    const history = await trainer.fitDataset(dataset, { epochs: 2 });
    expect(history.history.loss).toHaveLength(2);
    expect(seenIds).toHaveLength(6);
    expect(seenIds[1]).toEqual([104, 105, 106, 107]);
    expect(tf.memory().numTensors).toBe(before);

    // Stopping mid-epoch frees the batch that was already pulled for the lookahead.
    const stopped = await trainer.fitDataset(dataset, {
      epochs: 2,
      callbacks: { onBatchEnd: () => void (trainer.stopTraining = true) },
    });
    expect(stopped.epoch).toEqual([0]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });

  it('a gradient dropped in afterBackward is not applied, and counts as a skipped update', async () => {
    const trainer = newTrainer(3);
    const dropped = trainer.units[1]!.variables[1]!;
    trainer.use({
      apply: (t) =>
        t.hooks.afterBackward.tap('drop', (c) => {
          delete c.gradients[dropped.name];
        }),
    });
    const { x, y } = toyData(8, 8, 3);
    const before = dropped.dataSync().slice();
    await trainer.step({ x, y });
    await trainer.step({ x, y });
    expect(Array.from(dropped.dataSync())).toEqual(Array.from(before));
    expect(trainer.stats().counters.skippedVariableUpdates).toBe(2);
    // The dropped gradient tensor is still freed by the trainer.
    const tensorsAfterTwoSteps = tf.memory().numTensors;
    await trainer.step({ x, y });
    expect(tf.memory().numTensors).toBe(tensorsAfterTwoSteps);
    tf.dispose([x, y]);
  });
});
