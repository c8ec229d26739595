// --plugins head-only: every unit but the last frozen from the first step; only the head learns.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, HookStage, replaceHead } from '@trainhooks/core-hooks';
import { createPlugin, PLUGIN_NAMES, pluginProblem } from '@trainhooks/cli/internal';
import { HeadOnlyPlugin, headOnlyPlugin } from '../../packages/cli/src/plugins/head-only.js';
import { bitIdentical, denseModel, toyData, useCpu } from '../core-hooks/helpers.js';

beforeAll(useCpu);

function compiled(model: tfl.LayersModel): tfl.LayersModel {
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** dense → BatchNorm → dense → dense head: units with trainable and non-trainable variables. */
function modelWithBatchNorm(): tfl.Sequential {
  const seeded = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [8], units: 16, activation: 'relu', kernelInitializer: seeded(1) }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: seeded(2) }),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(3) }),
    ],
  });
}

describe('headOnlyPlugin', () => {
  it.each([
    ['a dense Sequential', () => compiled(denseModel(1, [8, 16, 16, 16, 3]))],
    ['a Sequential with BatchNorm', () => compiled(modelWithBatchNorm())],
    ['a backbone under a new head (replaceHead)', () => compiled(replaceHead(modelWithBatchNorm(), 3, { seed: 5 }))],
  ])('on %s: trains only the last unit, frozen from step 0', async (_, build) => {
    const trainer = createTrainer(build());
    const plugin = headOnlyPlugin();
    trainer.use(plugin);
    const units = trainer.units;
    expect(units.length).toBeGreaterThanOrEqual(3);
    const head = units[units.length - 1]!;
    const backbone = units.slice(0, -1).flatMap((unit) => [...unit.variables, ...(unit.stateVariables ?? [])]);
    const headVariables = [...head.variables, ...(head.stateVariables ?? [])];
    expect(headVariables.length).toBeGreaterThan(0);
    const backboneBefore = backbone.map((v) => v.dataSync().slice());
    const headBefore = headVariables.map((v) => v.dataSync().slice());

    // What each step saw: the frozen prefix after beforeForward (a later tap) and in the step event.
    const seenInHook: number[] = [];
    trainer.hooks.beforeForward.tap({ name: 'probe', stage: HookStage.FREEZE + 1000 }, (context) => void seenInHook.push(context.frozenPrefix));
    const stepEvents: Array<{ step: number; frozenPrefix: number }> = [];
    trainer.events.on('step', ({ step, frozenPrefix }) => stepEvents.push({ step, frozenPrefix }));
    const changes: Array<{ step: number; previous: number; next: number }> = [];
    trainer.events.on('frozenPrefix', (change) => changes.push(change));
    expect(trainer.frozenPrefix).toBe(0);

    const { x, y } = toyData(64, 8, 3, 7);
    const history = await trainer.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);

    expect(stepEvents).toHaveLength(8);
    expect(stepEvents.map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    stepEvents.forEach((e) => expect(e.frozenPrefix).toBe(units.length - 1));
    expect(seenInHook).toEqual(new Array(8).fill(units.length - 1));
    expect(changes).toEqual([{ step: 0, previous: 0, next: units.length - 1 }]);
    expect(trainer.frozenPrefix).toBe(units.length - 1);

    backbone.forEach((v, i) => expect(bitIdentical(v.dataSync(), backboneBefore[i]!), v.name).toBe(true));
    head.variables.forEach((v, i) => expect(bitIdentical(v.dataSync(), headBefore[i]!), v.name).toBe(false));
    expect(plugin.report()).toEqual({ frozenUnits: units.length - 1, units: units.length });
    tf.dispose([x, y]);
  });

  it('never lowers a larger frozen prefix set by someone else', async () => {
    const trainer = createTrainer(compiled(denseModel(2, [8, 16, 16, 3])));
    trainer.use(headOnlyPlugin());
    trainer.frozenPrefix = trainer.units.length; // everything frozen
    const before = trainer.units.flatMap((unit) => unit.variables).map((v) => v.dataSync().slice());
    const { x, y } = toyData(16, 8, 3, 3);
    const frozen: number[] = [];
    trainer.events.on('step', ({ frozenPrefix }) => frozen.push(frozenPrefix));
    await trainer.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(frozen).toEqual([trainer.units.length, trainer.units.length]);
    trainer.units.flatMap((unit) => unit.variables).forEach((v, i) => expect(bitIdentical(v.dataSync(), before[i]!)).toBe(true));
    tf.dispose([x, y]);
  });

  it('reports zero units before it joins a trainer', () => {
    expect(headOnlyPlugin()).toBeInstanceOf(HeadOnlyPlugin);
    expect(headOnlyPlugin().report()).toEqual({ frozenUnits: 0, units: 0 });
    expect(headOnlyPlugin().name).toBe('HeadOnlyPlugin');
  });

  it('takes no options: any option is refused by name', async () => {
    expect(() => headOnlyPlugin({})).not.toThrow();
    expect(() => headOnlyPlugin({ x: 1 })).toThrow('head-only: option x must be nothing: head-only takes no options, got 1');
    expect(() => headOnlyPlugin({ warmupSteps: 10 })).toThrow(/option warmupSteps/);
    expect(await pluginProblem('head-only', { x: 1 })).toMatch(/^plugin 'head-only': head-only: option x must be nothing/);
    expect(await pluginProblem('head-only', {})).toBeNull();
  });

  it("is the CLI's plugin 'head-only', first in the list", async () => {
    expect(PLUGIN_NAMES[0]).toBe('head-only');
    const probe = tf.zeros([1, 8]);
    const plugin = await createPlugin('head-only', {}, { probe, seed: 1, threads: 1 });
    expect(plugin).toBeInstanceOf(HeadOnlyPlugin);
    expect(plugin.report!()).toEqual({ frozenUnits: 0, units: 0 });
    expect(plugin.describe!()).toEqual({ speedup: 'skips-work', communicates: false });
    await expect(createPlugin('head-only', { y: true }, { probe, seed: 1, threads: 1 })).rejects.toThrow(/option y/);
    probe.dispose();
  });
});
