import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom, type Trainer } from '@trainhooks/core-hooks/internal';
import { gradPrunePlugin, growthExponent, saturationConvergence } from '@trainhooks/plugin-grad-prune/internal';
import { bitIdentical, copyWeights, toyData, useCpu } from '../core-hooks/helpers.js';
import { scriptedPruneTrainer, train } from './helpers.js';

beforeAll(useCpu);

/** Standard normal draws from a seeded generator (Box–Muller). */
function normals(random: SeededRandom, count: number): Float64Array {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  return values;
}

/** distance from the start after n₁ and n₂ steps of a trajectory in `dims` dimensions, `next` giving each step's position. */
function displacements(dims: number, n1: number, n2: number, next: (position: Float64Array, step: number) => void) {
  const position = new Float64Array(dims);
  for (let step = 0; step < 200; step++) next(position, step); // settle before the anchor
  const anchor = position.slice();
  const distance = () => Math.sqrt(position.reduce((sum, value, i) => sum + (value - anchor[i]!) ** 2, 0));
  let first = 0;
  for (let step = 1; step <= n2; step++) {
    next(position, step);
    if (step === n1) first = distance();
  }
  return growthExponent({ distance: first, updates: n1 }, { distance: distance(), updates: n2 });
}

describe('growthExponent', () => {
  const random = new SeededRandom(3);
  it('≈ 2 for travel in one direction, ≈ 1 for a random walk, ≈ 0 for fluctuation around a point', () => {
    const directed = displacements(500, 50, 100, (position) => position.forEach((value, i) => (position[i] = value + 0.01 * (1 + (i % 3)))));
    const walk = displacements(500, 50, 100, (position) => normals(random, position.length).forEach((z, i) => (position[i]! += 0.01 * z)));
    // Ornstein–Uhlenbeck: pulled back to 0 with relaxation time 5 steps, at its stationary spread.
    const settled = displacements(500, 50, 100, (position) => normals(random, position.length).forEach((z, i) => (position[i] = 0.8 * position[i]! + 0.01 * z)));
    expect(directed).toBeCloseTo(2, 6);
    expect(Math.abs(walk! - 1)).toBeLessThan(0.15);
    expect(Math.abs(settled!)).toBeLessThan(0.15);
    expect(saturationConvergence(directed!)).toBe(0);
    expect(saturationConvergence(walk!)).toBeLessThan(0.15);
    expect(saturationConvergence(settled!)).toBeGreaterThan(0.85);
    expect(saturationConvergence(-0.4)).toBe(1); // drifted back toward the anchor
  });

  it('says nothing without updates between the two points; weights back at the anchor have settled', () => {
    expect(growthExponent({ distance: 1, updates: 10 }, { distance: 2, updates: 10 })).toBeNull();
    expect(growthExponent({ distance: 1, updates: 0 }, { distance: 2, updates: 10 })).toBeNull();
    expect(growthExponent({ distance: 0, updates: 5 }, { distance: 2, updates: 10 })).toBeNull();
    expect(growthExponent({ distance: 0, updates: 5 }, { distance: 0, updates: 10 })).toBe(0);
    expect(growthExponent({ distance: 1, updates: 5 }, { distance: 0, updates: 10 })).toBe(0);
  });
});

/** Gradients with a known fate: unit 0's shrink by 0.9 per step (settles), unit 1's point the same way every step (travels). */
function scriptedGradients(trainer: Trainer): void {
  const [settling, travelling] = [trainer.units[0]!, trainer.units[1]!];
  trainer.hooks.beforeAllReduce.tap('scripted', (gradients, context) => {
    const replaced = { ...gradients };
    settling.variables.forEach((variable, i) => {
      if (replaced[variable.name]) replaced[variable.name] = tf.randomNormal(variable.shape, 0, 0.05 * 0.9 ** context.step, 'float32', context.step * 10 + i + 1);
    });
    for (const variable of travelling.variables) {
      if (replaced[variable.name]) replaced[variable.name] = tf.fill(variable.shape, 0.01);
    }
    return replaced;
  });
}

function saturationTrainer(seed: number) {
  return scriptedPruneTrainer(seed, { score: 'saturation', monitorEvery: 10, saturationLag: 3, minObservations: 1, seed: 5 }, scriptedGradients);
}

describe("GradPrunePlugin with score: 'saturation'", () => {
  it('prunes a group whose distance from its anchor saturates, never one that travels; one snapshot per group; no leaks', async () => {
    const batch = toyData(16, 8, 3);
    const { trainer, plugin } = saturationTrainer(1);
    const [settling, travelling] = trainer.units.map((unit) => unit.name);
    await train(trainer, 100, batch);
    const tensors = tf.memory().numTensors;
    await train(trainer, 200, batch);
    expect(tf.memory().numTensors).toBe(tensors);
    const report = plugin.report().groups;
    // A window is 2 · 3 monitor points of 10 steps: one score per group per 60 steps.
    expect(report[travelling]!.series.length).toBe(4);
    for (const point of report[travelling]!.series) expect(point.growth).toBeCloseTo(2, 1);
    expect(report[travelling]!.skippedSteps).toBe(0);
    expect(report[settling]!.series.at(-1)!.growth!).toBeLessThan(0.3);
    expect(report[settling]!.series.at(-1)!.probability).toBeCloseTo(0.9);
    expect(report[settling]!.skippedSteps).toBeGreaterThan(100);
    expect(plugin.monitoredGroups).toEqual([settling, travelling]);
    await trainer.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('a new learning rate restarts the window: no score spans two rates', async () => {
    const batch = toyData(16, 8, 3);
    const { trainer, plugin } = saturationTrainer(1);
    const travelling = trainer.units[1]!.name;
    await train(trainer, 90, batch); // the second window is half done
    await trainer.setLearningRate(0.01);
    await train(trainer, 70, batch);
    const steps = plugin.report().groups[travelling]!.series.map((point) => point.step);
    // Windows: steps 9 → 69 scored at 69; the one from 69 restarted at 99 (new rate), scored at 159.
    expect(steps).toEqual([69, 159]);
    await trainer.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('export → import mid-window: the resumed trainer prunes the same pattern and ends with the same weights', async () => {
    const batch = toyData(16, 8, 3);
    const original = saturationTrainer(1);
    await train(original.trainer, 170, batch);
    const state = structuredClone(await original.trainer.exportState());
    const resumed = saturationTrainer(2);
    copyWeights(original.trainer.model as never, resumed.trainer.model as never);
    await resumed.trainer.importState(state);
    original.events.length = 0;
    await train(original.trainer, 100, batch);
    await train(resumed.trainer, 100, batch);
    expect(original.events.length).toBeGreaterThan(30);
    const positions = (run: typeof original) => run.events.map((event) => [event.step, event.groups.map((g) => run.trainer.units.findIndex((u) => u.name === g))]);
    expect(positions(resumed)).toEqual(positions(original));
    const expected = original.trainer.variables.map((v) => v.dataSync());
    resumed.trainer.variables.forEach((v, i) => expect(bitIdentical(v.dataSync(), expected[i]!)).toBe(true));
    tf.dispose([batch.x, batch.y]);
  });

  it('options: score and saturationLag are validated', () => {
    expect(() => gradPrunePlugin({ score: 'slope' as never })).toThrow(/option score must be 'auto', 'peak', 'saturation' or 'output-effect', got 'slope'/);
    expect(() => gradPrunePlugin({ saturationLag: 0 })).toThrow(/option saturationLag must be an integer ≥ 1, got 0/);
  });
});
