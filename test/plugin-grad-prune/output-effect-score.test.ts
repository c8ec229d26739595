import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, type Trainer } from '@trainhooks/core-hooks';
import { gradPrunePlugin, OutputEffectMonitor, parameterGroups, type GradPruneOptions, type PruneEvent } from '@trainhooks/plugin-grad-prune/internal';
import { bitIdentical, copyWeights, denseModel, toyData, useCpu } from '../core-hooks/helpers.js';
import { train } from './helpers.js';

beforeAll(useCpu);

describe('OutputEffectMonitor', () => {
  it("'directed': measured over two lags only while the first leaves the probability open", () => {
    const farEffects = (certain?: readonly [number, number]) => {
      const model = denseModel(3, [8, 16, 16, 3]);
      const trainer = createTrainer(model, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
      const groups = parameterGroups(trainer.units, 'unit', 1);
      const monitor = new OutputEffectMonitor({ lag: 1, patience: 1, effectThreshold: 0.01, movement: 'directed', ...(certain ? { certain } : {}) });
      const { x, y } = toyData(32, 8, 3, 5);
      monitor.setProbe(x, 32);
      const kernel = trainer.units[0]!.variables[0]!;
      const seen: Array<number | null> = [];
      for (let point = 0; point < 3; point++) {
        const observation = monitor.observe(point, groups, trainer.units).get(groups[0]!.name);
        if (observation) seen.push(observation.farEffect);
        kernel.assign(tf.tidy(() => tf.add(kernel, tf.mul(tf.randomNormal(kernel.shape, 0, 1, 'float32', 7), 0.02))));
        monitor.countUpdate(groups[0]!.name);
      }
      monitor.dispose();
      tf.dispose([x, y]);
      model.dispose();
      return seen;
    };
    // Point 1 has one lag to measure; point 2 reaches two.
    const always = farEffects();
    expect(always[0]).toBeNull();
    expect(always[1]).toBeGreaterThan(0);
    expect(farEffects([0.9, 0.95])).toEqual([null, null]); // every effect here is far below 0.9: decided
    expect(farEffects([1e-9, 1e-8])).toEqual([null, null]); // and far above 1e-8
    expect(farEffects([1e-9, 0.9])[1]).toBeCloseTo(always[1]!, 12);
  });

  it('undoing a group moves the predictions by what its recent change does to them; the weights come back bit for bit; no leaks', () => {
    const model = denseModel(3, [8, 16, 16, 3]);
    const trainer = createTrainer(model, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const groups = parameterGroups(trainer.units, 'unit', 2);
    const monitor = new OutputEffectMonitor({ lag: 1, patience: 1, effectThreshold: 0.01, movement: 'total' });
    const { x, y } = toyData(32, 8, 3, 5);
    monitor.setProbe(x, 32);
    monitor.observe(0, groups, trainer.units);
    // Unit 1 moves, unit 0 does not.
    const moved = trainer.units[1]!.variables[0]!;
    const before = moved.dataSync().slice();
    moved.assign(tf.tidy(() => tf.add(moved, tf.randomNormal(moved.shape, 0, 0.3, 'float32', 2))));
    monitor.countUpdate(groups[0]!.name);
    monitor.countUpdate(groups[1]!.name);
    const weights = trainer.variables.map((v) => v.dataSync().slice());
    const tensors = tf.memory().numTensors;
    const observations = monitor.observe(1, groups, trainer.units);
    expect(tf.memory().numTensors).toBe(tensors); // each group's new snapshot replaced its oldest
    trainer.variables.forEach((v, i) => expect(bitIdentical(v.dataSync(), weights[i]!)).toBe(true));
    expect(observations.get(groups[0]!.name)!.lagEffect).toBe(0);
    // By hand: the predictions with unit 1's kernel put back, against now.
    const now = model.predict(x) as tf.Tensor2D;
    const after = moved.dataSync().slice();
    moved.assign(tf.tensor(before, moved.shape));
    const undone = model.predict(x) as tf.Tensor2D;
    moved.assign(tf.tensor(after, moved.shape));
    const byHand = tf.tidy(() => tf.mean(tf.mul(tf.sum(tf.abs(tf.sub(now, undone)), 1), 0.5)).dataSync()[0]!);
    expect(byHand).toBeGreaterThan(0.01);
    // One update in one step: the full-rate effect is the measured one.
    expect(observations.get(groups[1]!.name)!.lagEffect).toBeCloseTo(byHand, 5);
    expect(observations.get(groups[1]!.name)!.effect).toBeCloseTo(byHand, 5);
    monitor.dispose();
    tf.dispose([x, y, now, undone]);
    model.dispose();
  });

  it('with a frozen prefix the probe runs through the frozen units once, until the prefix changes; the effects are those measured through the whole model', () => {
    const model = denseModel(3, [8, 16, 16, 16, 3]);
    const trainer = createTrainer(model, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const tensors = tf.memory().numTensors;
    // Units 0 and 1 frozen; the groups of units 2 and 3 measured.
    const groups = parameterGroups(trainer.units, 'unit', 4).filter((group) => group.unit >= 2);
    const settings = { lag: 1, patience: 1, effectThreshold: 0.01, movement: 'total' } as const;
    const cached = new OutputEffectMonitor(settings);
    const whole = new OutputEffectMonitor(settings);
    const { x, y } = toyData(32, 8, 3, 5);
    cached.setProbe(x, 32);
    whole.setProbe(x, 32);
    const first = trainer.units[0]!;
    const apply = first.apply.bind(first);
    let firstUnitRuns = 0;
    (first as { apply: typeof apply }).apply = (input, options) => {
      firstUnitRuns++;
      return apply(input, options);
    };
    const move = (unit: number, seed: number) => {
      const kernel = trainer.units[unit]!.variables[0]!;
      tf.tidy(() => kernel.assign(tf.add(kernel, tf.mul(tf.randomNormal(kernel.shape, 0, 1, 'float32', seed), 0.2))));
    };
    const runs: number[] = [];
    for (let point = 0; point < 5; point++) {
      if (point === 3) {
        // The prefix thawed, unit 0 trained, and it froze again: what was kept is stale.
        cached.prefixChanged();
        move(0, 99);
      }
      firstUnitRuns = 0;
      const fromBoundary = cached.observe(point, groups, trainer.units, undefined, 2);
      runs.push(firstUnitRuns);
      const throughAll = whole.observe(point, groups, trainer.units);
      expect(fromBoundary.size).toBe(point === 0 ? 0 : 2);
      for (const group of groups) {
        expect(fromBoundary.get(group.name)?.lagEffect).toBe(throughAll.get(group.name)?.lagEffect);
        cached.countUpdate(group.name);
        whole.countUpdate(group.name);
      }
      move(2, point);
      move(3, point + 10);
    }
    // Nothing to measure at point 0; the frozen units run at point 1 and, after the change, at point 3.
    expect(runs).toEqual([0, 1, 0, 1, 0]);
    cached.dispose();
    whole.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });
});

/**
 * A fine-tuning (every unit but the head pretrained) whose gradients are scripted: unit 0's shrink by
 * 0.9 per step (it settles), unit 1's keep one direction at a constant size (it keeps learning).
 */
function fineTuning(pruneSeed: number, options: Partial<GradPruneOptions> = {}, optimizer: tf.Optimizer = tf.train.sgd(0.1)) {
  const trainer = createTrainer(denseModel(1, [8, 16, 16, 16, 3]), { optimizer, loss: 'categoricalCrossentropy', pretrainedUnits: 3 });
  const plugin = gradPrunePlugin({ monitorEvery: 10, seed: pruneSeed, ...options });
  trainer.use(plugin);
  scriptGradients(trainer);
  const events: PruneEvent[] = [];
  trainer.events.on('prune', (event) => void events.push(event));
  return { trainer, plugin, events };
}

function scriptGradients(trainer: Trainer): void {
  const [settling, learning] = [trainer.units[0]!, trainer.units[1]!];
  trainer.hooks.beforeAllReduce.tap('scripted', (gradients, context) => {
    const replaced = { ...gradients };
    settling.variables.forEach((variable, i) => {
      if (replaced[variable.name]) replaced[variable.name] = tf.randomNormal(variable.shape, 0, 0.05 * 0.9 ** context.step, 'float32', context.step * 10 + i + 1);
    });
    learning.variables.forEach((variable, i) => {
      if (replaced[variable.name]) replaced[variable.name] = tf.randomNormal(variable.shape, 0, 0.1, 'float32', 1000 + i);
    });
    return replaced;
  });
}

describe("GradPrunePlugin with score 'output-effect'", () => {
  it("'auto' judges by output effect: the directed movement in a fine-tuning, all of it from scratch", () => {
    const regime = (pretrainedUnits: number | undefined, options: Partial<GradPruneOptions> = {}) => {
      const trainer = createTrainer(denseModel(1), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', ...(pretrainedUnits ? { pretrainedUnits } : {}) });
      const plugin = gradPrunePlugin(options);
      trainer.use(plugin);
      return plugin.report().regime;
    };
    expect(regime(2)).toEqual({ name: 'fine-tuning', score: 'output-effect', effectMovement: 'directed' });
    expect(regime(undefined)).toEqual({ name: 'from-scratch', score: 'output-effect', effectMovement: 'total' });
    expect(regime(undefined, { score: 'peak' })).toEqual({ name: 'from-scratch', score: 'peak', effectMovement: null });
    expect(regime(2, { score: 'saturation' })).toEqual({ name: 'fine-tuning', score: 'saturation', effectMovement: null });
    expect(() => gradPrunePlugin({ effectThreshold: 0 })).toThrow(/option effectThreshold must be a number in \(0, 1\], got 0/);
    expect(() => gradPrunePlugin({ effectMovement: 'drift' as never })).toThrow(/option effectMovement must be 'auto', 'directed' or 'total'/);
    expect(() => gradPrunePlugin({ referenceLag: 0 })).toThrow(/option referenceLag must be an integer ≥ 1/);
  });

  it('prunes the group whose learning no longer moves the predictions, never the one still learning; no leaks', async () => {
    const batch = toyData(16, 8, 3);
    const { trainer, plugin } = fineTuning(7);
    const [settling, learning] = trainer.units.map((unit) => unit.name);
    await train(trainer, 150, batch);
    // Still learning: its effect stays far above the threshold, and it is never skipped. (Later its
    // drift saturates the softmax, and its effect falls too.)
    const moving = plugin.report().groups[learning!]!;
    expect(Math.min(...moving.series.map((point) => point.effect!))).toBeGreaterThan(0.02);
    expect(moving.skippedSteps).toBe(0);
    // Its effect over one lag already says "not settled" (half of it, as jitter, is over the edge of
    // zero probability): the costlier measurement over two lags is never made.
    expect(moving.series.every((point) => point.farEffect === null)).toBe(true);
    expect(moving.status).toMatch(/^still learning: undoing its recent learning moves \d+\.\d\d % of the predictions ≥ 1\.05 %, where pruning starts$/);
    const tensors = tf.memory().numTensors;
    await train(trainer, 150, batch);
    expect(tf.memory().numTensors).toBe(tensors);
    const settled = plugin.report().groups[settling!]!;
    expect(settled.series[0]!.probability).toBe(0);
    expect(settled.series.at(-1)!.level).toBeLessThan(0.0075);
    expect(settled.series.at(-1)!.probability).toBeGreaterThan(0.8);
    expect(settled.skippedSteps).toBeGreaterThan(150);
    expect(settled.trainedSteps).toBeGreaterThan(settled.series.length); // it wakes up
    expect(settled.series.at(-1)!.farEffect).toBeNull(); // settled: one lag decides
    expect(settled.status).toMatch(/^skipped with probability 0\.\d\d: undoing its recent learning moves 0\.\d\d % of the predictions \(pruning starts under 1\.05 %\)$/);
    // What judging cost is in the report: 30 monitor points, each timed.
    expect(plugin.report().monitor.points).toBe(30);
    expect(plugin.report().monitor.milliseconds).toBeGreaterThan(0);
    await trainer.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('a group far above where pruning starts and not falling, or far under where its probability is highest and not rising, is measured every maxMeasureSpacing points, on a grid all groups share', async () => {
    const batch = toyData(16, 8, 3);
    const gaps = async (maxMeasureSpacing: number) => {
      const { trainer, plugin } = fineTuning(7, { maxMeasureSpacing });
      const [settling, learning] = trainer.units.map((unit) => unit.name);
      // 150 steps: later the learning group's drift saturates the softmax, and its effect falls too.
      await train(trainer, 150, batch);
      const report = plugin.report();
      const stepsBetween = (group: string) => {
        const steps = report.groups[group]!.series.map((point) => point.step);
        return steps.slice(1).map((step, index) => step - steps[index]!);
      };
      await trainer.dispose();
      const measuredAt = (group: string) => report.groups[group]!.series.map((point) => point.step);
      return {
        settling: stepsBetween(settling!),
        learning: stepsBetween(learning!),
        settlingAt: measuredAt(settling!),
        learningAt: measuredAt(learning!),
        monitor: report.monitor,
        levels: report.groups[learning!]!.series.map((point) => point.level!),
        settlingLevels: report.groups[settling!]!.series.map((point) => point.level!),
      };
    };
    const spaced = await gaps(4);
    // The learning group sits far above 2 × 1.05 % with a flat or rising effect: after its first
    // `patience` measurements, one every 4 points (40 steps), at the points whose number is a multiple
    // of 4 — a grid every spaced group shares, so their measurements fall on the same points.
    expect(Math.min(...spaced.levels.slice(2))).toBeGreaterThan(2 * 0.0105);
    expect(spaced.learning[2]).toBeLessThanOrEqual(40);
    expect(spaced.learning.slice(3)).toEqual(spaced.learning.slice(3).map(() => 40));
    const onGrid = (step: number) => ((step + 1) / 10) % 4 === 0;
    expect(spaced.learningAt.slice(3).every(onGrid)).toBe(true);
    // The settling group is pruned at the highest probability from its third measurement on, its level
    // far under half the effect where that starts (2 × 0.75 % × 0.4 = 0.6 %) and falling: after its
    // `patience` measurements it is spaced out too, at the same grid points.
    expect(Math.max(...spaced.settlingLevels)).toBeLessThan(0.003);
    expect(spaced.settling.slice(0, 2)).toEqual([10, 10]);
    expect(spaced.settling.slice(2).every((gap) => gap > 10 && gap <= 40)).toBe(true);
    expect(spaced.settlingAt.slice(3).every(onGrid)).toBe(true);
    expect(spaced.monitor.spacedOut).toBeGreaterThan(5);
    // So at most points no group is due, and the probe's forward does not run at all.
    expect(spaced.monitor.measuredPoints).toBe(new Set([...spaced.settlingAt, ...spaced.learningAt]).size);
    expect(spaced.monitor.measuredPoints).toBeLessThan(spaced.monitor.points / 2);
    const every = await gaps(1);
    expect(every.learning.every((gap) => gap === 10)).toBe(true);
    expect(every.settling.every((gap) => gap === 10)).toBe(true);
    expect(every.monitor.spacedOut).toBe(0);
    expect(every.monitor.measurements).toBeGreaterThan(spaced.monitor.measurements);
    expect(() => gradPrunePlugin({ maxMeasureSpacing: 0 })).toThrow(/option maxMeasureSpacing must be an integer ≥ 1, got 0/);
    tf.dispose([batch.x, batch.y]);
  });

  it('a group whose pruning alone saves less than measuring it costs is measured when the next group that pays is (with none after it, the one before; with none, on its own)', async () => {
    const batch = toyData(16, 8, 3);
    const run = async (layers: () => tfl.layers.Layer[], frozenPrefix = 0) => {
      const model = tfl.sequential({ layers: layers() });
      const trainer = createTrainer(model, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
      const plugin = gradPrunePlugin({ monitorEvery: 5, maxMeasureSpacing: 4, effectThreshold: 0.001 });
      trainer.use(plugin);
      // Stands in for plugin-freeze: the front `frozenPrefix` units stay frozen.
      trainer.hooks.beforeForward.tap('frozen front', (context) => void (context.frozenPrefix = frozenPrefix));
      await train(trainer, 200, batch);
      const report = plugin.report();
      await trainer.dispose();
      const groups = Object.values(report.groups);
      return { steps: groups.map((group) => group.series.map((point) => point.step)), with: groups.map((group) => group.measuredWith), names: Object.keys(report.groups), points: report.monitor.points };
    };
    const dense = (units: number, seed: number, inputShape?: number[]) => tfl.layers.dense({ units, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }), ...(inputShape ? { inputShape } : {}) });
    const head = () => tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) });
    // Per sample 32, 0, 256 and 8,192 forward FLOPs, 8,864 from the front: at pMax 0.9 of the 16-sample
    // steps, only the last dense unit's weight gradient repays a forward of the 16-sample probe from its
    // unit every 5 steps (117,965 ≥ 27,443); the three before it follow its schedule.
    const narrowFront = await run(() => [dense(2, 1, [8]), tfl.layers.batchNormalization(), dense(64, 2), dense(64, 3), head()]);
    const leader = narrowFront.names[3]!;
    expect(narrowFront.with).toEqual([leader, leader, leader, null]);
    // With this threshold the leader sits far above where pruning starts and is spaced out at most
    // points; the others are judged at its points only. (A measurement judges nothing when the group had no update in the lag, so a
    // series may skip one of them.)
    expect(narrowFront.steps[3]!.length).toBeLessThan(narrowFront.points / 2);
    for (const follower of narrowFront.steps.slice(0, 3)) {
      expect(follower.length).toBeGreaterThan(0);
      expect(follower.every((step) => narrowFront.steps[3]!.includes(step))).toBe(true);
    }
    // A BatchNorm last in line follows the group before it; first and alone (the rest frozen), its own.
    const normLast = await run(() => [dense(64, 1, [8]), tfl.layers.batchNormalization(), head()]);
    expect(normLast.with).toEqual([null, normLast.names[0]]);
    const normAlone = await run(() => [dense(64, 1, [8]), tfl.layers.batchNormalization(), head()], 1);
    expect(normAlone.with).toEqual([null, null]);
    expect(normAlone.steps[1]!.slice(0, 3)).toEqual([14, 19, 24]);
    tf.dispose([batch.x, batch.y]);
  });

  it('the probe is the whole batch’s first samples, taken before a data-parallel rank keeps its shard', async () => {
    const batch = toyData(16, 8, 3);
    const { trainer, plugin } = fineTuning(7, { probeSize: 12 });
    // A rank's shard, like plugin-mpi's (a selectBatch tap at the default stage).
    trainer.hooks.selectBatch.tap('shard', (given) => ({ x: tf.slice(given.x, 8, 8), y: tf.slice(given.y, 8, 8), ids: null }));
    await train(trainer, 1, batch);
    const probe = (await plugin.exportState()).probe!;
    expect(probe.shapes[0]).toEqual([12, 8]);
    expect(bitIdentical(probe.values[0]!, tf.slice(batch.x, 0, 12).dataSync() as Float32Array)).toBe(true);
    await trainer.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('a frozen prefix that thaws and freezes again: the same verdicts, prune pattern and weights as measuring through the whole model every time', async () => {
    const batch = toyData(16, 8, 3);
    // Units 0 and 1 frozen over steps 50–89 and again from 120; in between unit 1 (scripted to keep
    // learning) moves, so an activation kept from the first freeze would be stale after the second.
    const prefixAt = (step: number) => ((step >= 50 && step < 90) || step >= 120 ? 2 : 0);
    const run = async (recomputeEveryStep: boolean) => {
      const { trainer, plugin, events } = fineTuning(7);
      for (let step = 0; step < 180; step++) {
        trainer.frozenPrefix = prefixAt(step);
        // A state import reloads the probe and drops what was kept: every measurement computes it afresh.
        if (recomputeEveryStep) plugin.importState(await plugin.exportState());
        await trainer.step(batch);
      }
      const positions = events.map((event) => [event.step, event.groups.map((group) => trainer.units.findIndex((unit) => unit.name === group))]);
      const result = { groups: Object.values(plugin.report().groups), positions, weights: trainer.variables.map((v) => v.dataSync()) };
      await trainer.dispose();
      return result;
    };
    const kept = await run(false);
    const recomputed = await run(true);
    // Unit 2 was measured behind the prefix after both freezes.
    const behindPrefix = kept.groups[2]!.series.map((point) => point.step).filter((step) => prefixAt(step) === 2);
    expect(behindPrefix.some((step) => step < 90)).toBe(true);
    expect(behindPrefix.some((step) => step >= 120)).toBe(true);
    expect(kept.groups).toEqual(recomputed.groups);
    expect(kept.positions).toEqual(recomputed.positions);
    kept.weights.forEach((values, i) => expect(bitIdentical(values, recomputed.weights[i]!)).toBe(true));
    tf.dispose([batch.x, batch.y]);
  });

  it('export → import mid-run: the resumed trainer prunes the same pattern and ends with the same weights (Adam)', async () => {
    const batch = toyData(16, 8, 3);
    const original = fineTuning(5, {}, tf.train.adam(0.01));
    await train(original.trainer, 95, batch);
    const state = structuredClone(await original.trainer.exportState());
    const resumed = fineTuning(5, {}, tf.train.adam(0.01));
    copyWeights(original.trainer.model as never, resumed.trainer.model as never);
    await resumed.trainer.importState(state);
    original.events.length = 0;
    await train(original.trainer, 150, batch);
    await train(resumed.trainer, 150, batch);
    expect(original.events.length).toBeGreaterThan(10);
    const positions = (run: typeof original) => run.events.map((event) => [event.step, event.groups.map((g) => run.trainer.units.findIndex((u) => u.name === g))]);
    expect(positions(resumed)).toEqual(positions(original));
    const expected = original.trainer.variables.map((v) => v.dataSync());
    resumed.trainer.variables.forEach((v, i) => expect(bitIdentical(v.dataSync(), expected[i]!)).toBe(true));
    expect(Object.values(resumed.plugin.report().groups)).toEqual(Object.values(original.plugin.report().groups));
    // A state without the output-effect monitor is refused by name.
    const other = fineTuning(5);
    const fromScratch = createTrainer(denseModel(1, [8, 16, 16, 16, 3]), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const peak = gradPrunePlugin({ score: 'peak' });
    fromScratch.use(peak);
    const saved = (await fromScratch.exportState()).plugins['grad-prune']!.state;
    expect(() => other.plugin.importState(saved as never)).toThrow(/holds no output-effect monitor/);
    // And the other way: a state judged by output effect, into a trainer that judges by the peak score.
    expect(() => peak.importState(state.plugins['grad-prune']!.state as never)).toThrow(/judged by output effect, and this trainer judges by 'peak'/);
    for (const run of [original, resumed, other]) await run.trainer.dispose();
    await fromScratch.dispose();
    tf.dispose([batch.x, batch.y]);
  });
});
