import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, type Trainer } from '@trainhooks/core-hooks';
import { type FreezeEvent, type FreezeOptions, type PlasticityEvent } from '@trainhooks/plugin-freeze';
import { bitIdentical, denseModel, snapshot, throughCheckpointCodec, toyData, useCpu } from '../core-hooks/helpers.js';
import { freezeTrainer, scriptGradients } from './helpers.js';

beforeAll(useCpu);

/**
 * Quick evaluations, so a test freezes within a few dozen steps. These tests are about Egeria's drift
 * trend (the criterion before 'output-effect' became the default), with the head as the only unit
 * that never freezes (the default before 'all-but-2'); output-effect.test.ts covers the default criterion.
 */
const QUICK: Partial<FreezeOptions> = {
  criterion: 'drift-trend',
  maxFrozenUnits: 'all-but-head',
  warmupSteps: 10,
  evalEvery: 5,
  referenceLag: 2,
  window: 4,
  patience: 2,
};

function newTrainer(options: Partial<FreezeOptions>, optimizer: tf.Optimizer = tf.train.sgd(0.1), seed = 1) {
  return freezeTrainer(QUICK, options, optimizer, seed);
}

async function train(trainer: Trainer, steps: number, data = toyData(32, 8, 3)) {
  for (let i = 0; i < steps; i++) await trainer.step(data);
}

describe('FreezePlugin decisions', () => {
  it('freezes front to back, one unit at a time, never the head (reference in a worker)', async () => {
    const { trainer, plugin, events } = newTrainer({ deterministic: true });
    scriptGradients(trainer, [0, 1, 2, 3]);
    const prefixes: number[] = [];
    trainer.hooks.afterStep.tap('watch', (context) => void prefixes.push(context.frozenPrefix));
    await train(trainer, 120);
    expect(events.freeze.map((event) => event.index)).toEqual([0, 1, 2]);
    expect(events.freeze.every((event, i) => i === 0 || event.step > events.freeze[i - 1]!.step)).toBe(true);
    expect(trainer.frozenPrefix).toBe(3); // 4 units: the head stays
    expect(Math.max(...prefixes)).toBe(3);
    // The prefix only ever grew, by one at a time.
    for (let i = 1; i < prefixes.length; i++) expect(prefixes[i]! - prefixes[i - 1]!).toBeGreaterThanOrEqual(0);
    const report = plugin.report();
    expect(report.placement).toBe('worker');
    expect(report.regime).toEqual({ name: 'from-scratch', pretrainedUnits: 0, maxFrozenUnits: 3, effectMovement: 'total' });
    expect(report.units[0]!.frozen).toBe(true);
    expect(report.units[3]!.frozen).toBe(false);
    expect(report.timeline.map((entry) => entry.frozenPrefix)).toEqual([1, 2, 3]);
    expect(report.units[0]!.series.length).toBeGreaterThan(2);
    expect(report.medianEvaluationMs).toBeGreaterThan(0);
    expect(events.freeze[0]!.unit).toBe(trainer.units[0]!.name);
  });

  it('in a fine-tuning only the pretrained units may freeze: a fresh unit keeps training however settled it looks', async () => {
    const { trainer, plugin, events } = freezeTrainer(QUICK, { deterministic: true, reference: 'main-thread' }, tf.train.sgd(0.1), 1, { pretrainedUnits: 2 });
    scriptGradients(trainer, [0, 1, 2, 3]);
    await train(trainer, 120);
    expect(events.freeze.map((event) => event.index)).toEqual([0, 1]);
    expect(plugin.report().regime).toEqual({ name: 'fine-tuning', pretrainedUnits: 2, maxFrozenUnits: 2, effectMovement: 'directed' });
  });

  it('a unit that keeps moving holds the prefix back, and the report says why', async () => {
    const { trainer, plugin, events } = newTrainer({ reference: 'main-thread' });
    scriptGradients(trainer, [1, 2]); // unit 0 keeps moving
    await train(trainer, 80);
    expect(events.freeze).toEqual([]);
    const verdict = plugin.report().units[0]!.lastVerdict!;
    expect(verdict.converged).toBe(false);
    expect(verdict.reason).toMatch(/still moving|not flat|settling/);
    expect(plugin.report().placement).toBe('main-thread');
  });

  it('evaluating on the main thread puts the weights back exactly: with nothing frozen, training equals training without the plugin', async () => {
    const data = toyData(32, 8, 3);
    const plain = createTrainer(denseModel(3, [8, 16, 16, 16, 3]), { optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await train(plain, 40, data);
    // driftThreshold tiny: nothing converges, but every evaluation swaps reference weights in and out.
    const { trainer, plugin } = newTrainer({ reference: 'main-thread', driftThreshold: 1e-9, tolerance: 1e-9 }, tf.train.adam(0.01), 3);
    await train(trainer, 40, data);
    expect(plugin.report().evaluations).toBeGreaterThan(4);
    const [a, b] = [snapshot(plain.variables), snapshot(trainer.variables)];
    for (const [index, variable] of plain.variables.entries()) {
      expect(bitIdentical(a.get(variable.name)!, b.get(trainer.variables[index]!.name)!)).toBe(true);
    }
    await plain.dispose();
  });

  it('after a freeze (Adam) the frozen weights and optimizer slots stay bit-identical and the loss keeps falling', async () => {
    const { trainer, events } = newTrainer({ reference: 'main-thread', maxFrozenUnits: 1 }, tf.train.adam(0.01));
    // Unit 0 stops getting gradient after step 5: Adam's steps decay geometrically; the rest train for real.
    trainer.hooks.beforeAllReduce.tap('stop unit 0', (gradients, context) => {
      if (context.step < 5) return gradients;
      const replaced = { ...gradients };
      for (const variable of trainer.units[0]!.variables) {
        if (!replaced[variable.name]) continue;
        replaced[variable.name]!.dispose();
        replaced[variable.name] = tf.zerosLike(variable);
      }
      return replaced;
    });
    const data = toyData(64, 8, 3);
    const losses: number[] = [];
    let frozenAt: { weights: Map<string, Float32Array>; slots: string } | null = null;
    trainer.hooks.afterStep.tapPromise('watch', async (context) => {
      losses.push(context.logs.loss!);
      if (context.frozenPrefix === 1 && !frozenAt) {
        frozenAt = { weights: snapshot(trainer.units[0]!.variables), slots: JSON.stringify(await slotsOf(trainer, 0)) };
      }
    });
    await train(trainer, 150, data);
    expect(events.freeze.map((event) => event.index)).toEqual([0]);
    const after = snapshot(trainer.units[0]!.variables);
    for (const [name, values] of frozenAt!.weights) expect(bitIdentical(values, after.get(name)!)).toBe(true);
    expect(JSON.stringify(await slotsOf(trainer, 0))).toBe(frozenAt!.slots);
    const freezeStep = events.freeze[0]!.step;
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(freezeStep - 10, freezeStep)));
    expect(losses.every(Number.isFinite)).toBe(true);
  });

  it('a learning-rate change unfreezes (setLearningRate, and the optimizer rate set from a callback), and tracking restarts', async () => {
    const { trainer, events } = newTrainer({ reference: 'main-thread' });
    scriptGradients(trainer, [0, 1, 2, 3]);
    await train(trainer, 60);
    const frozen = trainer.frozenPrefix;
    expect(frozen).toBeGreaterThanOrEqual(1);
    await trainer.setLearningRate(0.01);
    await train(trainer, 1);
    expect(events.unfreeze.map((event) => event.index)).toEqual(Array.from({ length: frozen }, (_, i) => frozen - 1 - i));
    expect(events.unfreeze[0]!.reason).toMatch(/learning rate 0.1 → 0.01/);
    expect(trainer.frozenPrefix).toBe(0);
    // Tracking restarted: no freeze before the ring (referenceLag) and the window have filled again.
    const freezesBefore = events.freeze.length;
    await train(trainer, QUICK.evalEvery! * (QUICK.referenceLag! + QUICK.window! - 1) - 1);
    expect(events.freeze.length).toBe(freezesBefore);
  });

  it('lrChangeKeepsScale: after an LR change, a unit whose drift stays at a floor far below its old peak freezes again only if the old scale is kept', async () => {
    const refrozen: Record<string, number> = {};
    for (const keepScale of [false, true]) {
      const { trainer, events } = newTrainer({ reference: 'main-thread', maxFrozenUnits: 1, lrChangeKeepsScale: keepScale });
      // Unit 0's weights jitter around their start with an amplitude that settles onto a floor: its drift
      // becomes small against its early peak, then stationary (whatever the learning rate).
      const centre = trainer.units[0]!.variables.map((variable) => tf.clone(variable));
      trainer.hooks.beforeAllReduce.tap('jitter', (gradients, context) => {
        const replaced = { ...gradients };
        const amplitude = Math.max(0.5 * 0.9 ** context.step, 0.005);
        trainer.units[0]!.variables.forEach((variable, i) => {
          if (!replaced[variable.name]) return;
          replaced[variable.name]!.dispose();
          replaced[variable.name] = tf.tidy(() => {
            const target = tf.add(centre[i]!, tf.randomNormal(variable.shape, 0, amplitude, 'float32', context.step * 10 + i + 1));
            return tf.div(tf.sub(variable, target), trainer.learningRate);
          });
        });
        return replaced;
      });
      await train(trainer, 100);
      expect(events.freeze.map((event) => event.index)).toEqual([0]);
      await trainer.setLearningRate(0.05);
      await train(trainer, 100);
      refrozen[String(keepScale)] = events.freeze.length - 1;
      tf.dispose(centre);
    }
    expect(refrozen).toEqual({ false: 0, true: 1 });
  });

  it('unfreezeUnits: 1 unfreezes only the last frozen unit', async () => {
    const { trainer, events } = newTrainer({ reference: 'main-thread', unfreezeUnits: 1 });
    scriptGradients(trainer, [0, 1, 2, 3]);
    await train(trainer, 80);
    const frozen = trainer.frozenPrefix;
    expect(frozen).toBeGreaterThanOrEqual(2);
    await trainer.setLearningRate(0.05); // every rate change goes through the trainer and fires lrChange
    await train(trainer, 1);
    expect(events.unfreeze.map((event) => event.index)).toEqual([frozen - 1]);
    expect(events.unfreeze[0]!.reason).toMatch(/learning rate 0.1 → 0.05/);
    expect(trainer.frozenPrefix).toBe(frozen - 1);
  });
});

/** A unit's optimizer slots as plain numbers. */
async function slotsOf(trainer: Trainer, unit: number) {
  const state = await trainer.exportState();
  const positions = trainer.units[unit]!.variables.map((variable) => trainer.variables.indexOf(variable));
  return positions.map((position) => state.optimizer.variables[position]);
}

describe('FreezePlugin over long runs and across a checkpoint', () => {
  it.each(['worker', 'main-thread'] as const)('no tensor leaks over 300 steps (reference on the %s)', async (reference) => {
    const { trainer, plugin, events } = newTrainer({ reference, deterministic: true });
    scriptGradients(trainer, [0, 1]);
    const data = toyData(32, 8, 3);
    await train(trainer, 100, data);
    // Both settling units froze by now; from here on the optimizer's own state is fixed in size too.
    expect(events.freeze.map((event) => event.index)).toEqual([0, 1]);
    const tensors = tf.memory().numTensors;
    await train(trainer, 200, data);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(trainer.frozenPrefix).toBe(2);
    expect(plugin.report().evaluations).toBeGreaterThan(40);
    tf.dispose([data.x, data.y]);
  });

  it('export → import in a new trainer and model → identical decisions and drift on the same data', async () => {
    const data = toyData(32, 8, 3);
    const options = { deterministic: true } as const;
    const first = newTrainer(options, tf.train.sgd(0.1), 7);
    scriptGradients(first.trainer, [0, 1, 2]);
    await train(first.trainer, 23, data); // mid-way between two evaluations, one in flight
    const state = throughCheckpointCodec(await first.trainer.exportState());
    const weights = first.trainer.variables.map((variable) => variable.dataSync().slice());
    const rest = (events: { freeze: FreezeEvent[]; plasticity: PlasticityEvent[] }, from: number) => ({
      freeze: events.freeze.filter((event) => event.step >= from),
      plasticity: events.plasticity.filter((event) => event.step >= from - 5),
    });
    const seen = { freeze: first.events.freeze.length, plasticity: first.events.plasticity.length };
    await train(first.trainer, 60, data);

    const second = newTrainer(options, tf.train.sgd(0.1), 8); // other initial weights: the checkpoint must override them
    scriptGradients(second.trainer, [0, 1, 2]);
    second.trainer.variables.forEach((variable, i) => variable.assign(tf.tensor(weights[i]!, variable.shape)));
    await second.trainer.importState(state);
    await train(second.trainer, 60, data);

    const expected = { freeze: first.events.freeze.slice(seen.freeze), plasticity: first.events.plasticity.slice(seen.plasticity) };
    expect(expected.freeze.length).toBeGreaterThan(0);
    expect(second.events.freeze.map(({ index, step }) => ({ index, step }))).toEqual(expected.freeze.map(({ index, step }) => ({ index, step })));
    const drifts = (events: PlasticityEvent[]) => events.map((event) => [event.step, event.units.map((unit) => [unit.index, unit.drift, unit.streak])]);
    expect(drifts(second.events.plasticity)).toEqual(drifts(expected.plasticity));
    expect(second.trainer.frozenPrefix).toBe(first.trainer.frozenPrefix);
    void rest;
    tf.dispose([data.x, data.y]);
  });
});
