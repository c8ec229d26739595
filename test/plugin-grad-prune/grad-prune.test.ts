import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, type Trainer } from '@trainhooks/core-hooks';
import { DEFAULT_GRAD_PRUNE_OPTIONS, gradPrunePlugin, newGroupStatistic, pruneProbability } from '@trainhooks/plugin-grad-prune/internal';
import { bitIdentical, copyWeights, denseModel, toyData, useCpu } from '../core-hooks/helpers.js';
import { scriptedPruneTrainer, train } from './helpers.js';

beforeAll(useCpu);

/**
 * Gradients with a known fate, put in place of the real ones: unit 0's shrink by 0.9 per step (it
 * "stops changing"), unit 1's keep a constant scale (it "keeps changing"), seeded by step.
 */
function scriptedGradients(trainer: Trainer): void {
  const [stopping, moving] = [trainer.units[0]!, trainer.units[1]!];
  trainer.hooks.beforeAllReduce.tap('scripted', (gradients, context) => {
    const replaced = { ...gradients };
    for (const [unit, scale] of [[stopping, 0.05 * 0.9 ** context.step], [moving, 0.05]] as const) {
      unit.variables.forEach((variable, i) => {
        if (replaced[variable.name]) replaced[variable.name] = tf.randomNormal(variable.shape, 0, scale, 'float32', context.step * 10 + i + 1);
      });
    }
    return replaced;
  });
}

function prunedTrainer(seed: number, pruneSeed: number, optimizer: tf.Optimizer = tf.train.sgd(0.1)) {
  return scriptedPruneTrainer(seed, { score: 'peak', monitorEvery: 10, seed: pruneSeed }, scriptedGradients, optimizer);
}

describe('pruneProbability and options', () => {
  it('zero below startAt, a linear ramp that reaches pMax at fullAt', () => {
    expect(pruneProbability(0.3, 0.5, 1, 0.9)).toBe(0);
    expect(pruneProbability(0.75, 0.5, 1, 0.9)).toBeCloseTo(0.45);
    expect(pruneProbability(0.45, 0.3, 0.6, 0.9)).toBeCloseTo(0.45);
    expect(pruneProbability(0.8, 0.3, 0.6, 0.9)).toBeCloseTo(0.9);
    expect(pruneProbability(NaN, 0.5, 1, 0.9)).toBe(0);
  });

  it('options are validated, naming option, value and range', () => {
    expect(() => gradPrunePlugin({ pMax: 1 })).toThrow(/option pMax must be a number in \[0, 1\), got 1/);
    expect(() => gradPrunePlugin({ monitorEvery: 0 })).toThrow(/option monitorEvery must be an integer ≥ 1, got 0/);
    expect(() => gradPrunePlugin({ startAt: -0.1 })).toThrow(/option startAt must be a number in \[0, 1\)/);
    expect(() => gradPrunePlugin({ startAt: 0.5, fullAt: 0.4 })).toThrow(/option fullAt must be greater than startAt \(0.5\), got 0.4/);
    expect(() => gradPrunePlugin({ groupBy: 'layer' as never })).toThrow(/option groupBy must be 'unit', 'variable' or a function/);
    expect(() => gradPrunePlugin({ draws: 'nested' as never })).toThrow(/option draws must be 'shared' or 'independent', got 'nested'/);
    expect(() => gradPrunePlugin({ pmax: 0.5 } as never)).toThrow(/option pmax must be one of monitorEvery/);
    expect(gradPrunePlugin().options).toEqual(DEFAULT_GRAD_PRUNE_OPTIONS);
  });
});

describe('GradPrunePlugin on a trainer', () => {
  it('in a fine-tuning only pretrained units are candidates, even with pruneHead', () => {
    const groupsOf = (pretrainedUnits: number | undefined, pruneHead: boolean) => {
      const trainer = createTrainer(denseModel(1, [8, 16, 16, 16, 3]), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', ...(pretrainedUnits === undefined ? {} : { pretrainedUnits }) });
      const plugin = gradPrunePlugin({ pruneHead });
      trainer.use(plugin);
      return Object.keys(plugin.report().groups).map((name) => trainer.units.findIndex((unit) => unit.name === name));
    };
    expect(groupsOf(undefined, false)).toEqual([0, 1, 2]);
    expect(groupsOf(undefined, true)).toEqual([0, 1, 2, 3]);
    expect(groupsOf(2, true)).toEqual([0, 1]);
    expect(groupsOf(2, false)).toEqual([0, 1]);
  });

  it('prunes a group that stops changing with rising probability, still updates it now and then; never prunes a moving one or the head', async () => {
    const batch = toyData(16, 8, 3);
    const { trainer, plugin } = prunedTrainer(1, 7);
    const [stopping, moving, head] = trainer.units.map((unit) => unit.name);
    await train(trainer, 300, batch);
    const report = plugin.report().groups;
    expect(Object.keys(report)).toEqual([stopping, moving]); // the head is not a candidate by default
    const probabilities = report[stopping]!.series.map((point) => point.probability);
    expect(probabilities[0]).toBe(0);
    expect(Math.max(...probabilities.slice(-5))).toBeGreaterThan(0.8);
    expect(report[stopping]!.skippedSteps).toBeGreaterThan(150);
    expect(report[stopping]!.trainedSteps).toBeGreaterThan(report[stopping]!.series.length); // it wakes up
    expect(report[moving]!.skippedSteps).toBe(0);
    expect(Math.max(...report[moving]!.series.map((point) => point.probability))).toBe(0);
    expect(report[stopping]!.flopsSavedLowerBound).toBe(report[stopping]!.skippedSteps * 2 * 16 * (8 * 16 + 16));
    // The report says why: the peak score's convergence against where pruning starts (0.30).
    expect(report[stopping]!.status).toMatch(/^skipped with probability 0\.\d\d: convergence 0\.\d\d \(pruning starts at 0\.30\)$/);
    expect(report[moving]!.status).toMatch(/^still learning: convergence 0\.\d\d < 0\.30, where pruning starts$/);
    expect(head).toBeDefined();
    await trainer.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('the same seed gives the same pattern, another seed another one', async () => {
    const batch = toyData(16, 8, 3);
    const patterns: string[][] = [];
    for (const seed of [3, 3, 4]) {
      const { trainer, events } = prunedTrainer(1, seed);
      await train(trainer, 200, batch);
      // By unit position: layer names differ between the models (tfjs counts layers process-wide).
      const position = (group: string) => trainer.units.findIndex((unit) => unit.name === group);
      patterns.push(events.map((event) => `${event.step}:${event.groups.map(position).join(',')}`));
      await trainer.dispose();
    }
    expect(patterns[0]!.length).toBeGreaterThan(20);
    expect(patterns[1]).toEqual(patterns[0]);
    expect(patterns[2]).not.toEqual(patterns[0]);
    tf.dispose([batch.x, batch.y]);
  });

  it('shared draws: each group pruned at its own probability, and the pruned sets nest; independent draws do not nest', async () => {
    const batch = toyData(16, 8, 3);
    // Convergence scores set through importState (no monitor point within the run): p = 0.9, 0.3, 0.6.
    const convergences = [0.6, 0.4, 0.5];
    const expected = convergences.map((c) => pruneProbability(c, DEFAULT_GRAD_PRUNE_OPTIONS.startAt, DEFAULT_GRAD_PRUNE_OPTIONS.fullAt, DEFAULT_GRAD_PRUNE_OPTIONS.pMax));
    const steps = 400;
    const runWith = async (draws: 'shared' | 'independent') => {
      const trainer = createTrainer(denseModel(1, [8, 16, 16, 16, 3]), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
      const plugin = gradPrunePlugin({ score: 'peak', monitorEvery: 10_000, seed: 11, draws });
      trainer.use(plugin);
      const statistic = (convergence: number) => ({ ...newGroupStatistic(), smoothedRate: 1 - convergence, peak: 1, observations: 5, updatesSinceSnapshot: 0, convergence });
      plugin.importState({
        random: 11,
        groups: convergences.map((c) => ({ statistic: statistic(c), snapshot: null, counts: { skipped: 0, trained: 0, flops: 0 }, series: [] })),
      });
      const pruned: number[][] = [];
      trainer.events.on('prune', (event) => void pruned.push(event.groups.map((g) => trainer.units.findIndex((u) => u.name === g))));
      await train(trainer, steps, batch);
      await trainer.dispose();
      const rates = convergences.map((_, group) => pruned.filter((groups) => groups.includes(group)).length / steps);
      // Nested: whenever a group is pruned, so is every group with a higher probability.
      const nested = pruned.every((groups) => groups.every((g) => expected.every((p, other) => p <= expected[g]! || groups.includes(other))));
      return { rates, nested };
    };
    const shared = await runWith('shared');
    shared.rates.forEach((rate, group) => expect(Math.abs(rate - expected[group]!)).toBeLessThan(0.07));
    expect(shared.nested).toBe(true);
    const independent = await runWith('independent');
    independent.rates.forEach((rate, group) => expect(Math.abs(rate - expected[group]!)).toBeLessThan(0.07));
    expect(independent.nested).toBe(false);
    tf.dispose([batch.x, batch.y]);
  });

  it('export → import: the resumed trainer prunes the same pattern and ends with the same weights', async () => {
    const batch = toyData(16, 8, 3);
    const original = prunedTrainer(1, 5);
    await train(original.trainer, 150, batch);
    const state = structuredClone(await original.trainer.exportState());
    const resumed = prunedTrainer(2, 5);
    copyWeights(original.trainer.model as never, resumed.trainer.model as never);
    await resumed.trainer.importState(state);
    original.events.length = 0;
    await train(original.trainer, 100, batch);
    await train(resumed.trainer, 100, batch);
    expect(original.events.length).toBeGreaterThan(10);
    const positions = (run: typeof original) => run.events.map((event) => [event.step, event.groups.map((g) => run.trainer.units.findIndex((u) => u.name === g))]);
    expect(positions(resumed)).toEqual(positions(original));
    const expected = original.trainer.variables.map((v) => v.dataSync());
    resumed.trainer.variables.forEach((v, i) => expect(bitIdentical(v.dataSync(), expected[i]!)).toBe(true));
    tf.dispose([batch.x, batch.y]);
  });

  it('on a skipped step the group gets no weight-gradient kernel, no update, no slot change; no tensor leaks over 300 steps', async () => {
    const batch = toyData(16, 8, 3);
    const { trainer, plugin, events } = prunedTrainer(1, 9, tf.train.adam(0.01));
    const stopping = trainer.units[0]!;
    await train(trainer, 100, batch);
    const skippedNow = () => events.at(-1)?.step === trainer.globalStep - 1;
    const slots = async () => {
      const saved = (await trainer.exportState()).optimizer.variables;
      const states = stopping.variables.map((v) => saved[trainer.variables.indexOf(v)]);
      return states.flatMap((state) => [Float32Array.of(state!.iterations), ...state!.slots.map((slot) => Float32Array.from(slot.values))]);
    };
    // Find a skipped and a trained step, and compare their kernels.
    const kernels = async () => {
      const before = stopping.variables.map((v) => v.dataSync().slice());
      const slotsBefore = await slots();
      const info = await tf.profile(async () => void (await trainer.step(batch)));
      const slotsAfter = await slots();
      const unchanged =
        stopping.variables.every((v, i) => bitIdentical(v.dataSync(), before[i]!)) &&
        slotsAfter.every((values, i) => bitIdentical(values, slotsBefore[i]!));
      return { matMuls: info.kernels.filter((k) => /MatMul/.test(k.name)).length, unchanged, skipped: skippedNow() };
    };
    const seen = new Map<boolean, { matMuls: number; unchanged: boolean }>();
    for (let i = 0; i < 60 && seen.size < 2; i++) {
      const result = await kernels();
      seen.set(result.skipped, result);
    }
    expect(seen.get(true)!.unchanged).toBe(true);
    expect(seen.get(false)!.unchanged).toBe(false);
    // Two MatMuls fewer: the first layer's kernel gradient, and the second layer's input gradient,
    // which only the first layer needed.
    expect(seen.get(true)!.matMuls).toBe(seen.get(false)!.matMuls - 2);
    const tensors = tf.memory().numTensors;
    await train(trainer, 300, batch);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(plugin.report().groups[stopping.name]!.skippedSteps).toBeGreaterThan(200);
    tf.dispose([batch.x, batch.y]);
  });

  it('a lower learning rate does not make a moving group look converged (rates are per unit of lr)', async () => {
    const batch = toyData(16, 8, 3);
    const { trainer, plugin } = prunedTrainer(1, 4);
    const moving = trainer.units[1]!.name;
    await train(trainer, 100, batch);
    await trainer.setLearningRate(0.01); // 10× lower: SGD's steps shrink 10×
    await train(trainer, 100, batch);
    expect(Math.max(...plugin.report().groups[moving]!.series.map((point) => point.convergence))).toBeLessThan(0.3);
    expect(plugin.report().groups[moving]!.skippedSteps).toBe(0);
    tf.dispose([batch.x, batch.y]);
  });

  it('ignores groups inside a frozen prefix and frees their snapshots', async () => {
    const batch = toyData(16, 8, 3);
    const { trainer, plugin, events } = prunedTrainer(1, 2);
    await train(trainer, 60, batch);
    expect(plugin.monitoredGroups).toContain(trainer.units[0]!.name);
    trainer.frozenPrefix = 1;
    events.length = 0;
    await train(trainer, 10, batch);
    const tensors = tf.memory().numTensors;
    await train(trainer, 100, batch);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(events.every((event) => !event.groups.includes(trainer.units[0]!.name))).toBe(true);
    expect(plugin.monitoredGroups).toEqual([trainer.units[1]!.name]); // the frozen group's snapshot is freed
    expect(plugin.probability(trainer.units[1]!.name)).toBe(0);
    expect(plugin.report().groups[trainer.units[0]!.name]!.status).toMatch(/^frozen: /);
    tf.dispose([batch.x, batch.y]);
  });
});
