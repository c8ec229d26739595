import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import { createModel } from '@trainhooks/cli';
import { freezePlugin } from '@trainhooks/plugin-freeze';
import { bitIdentical, useFastWasm } from '../core-hooks/helpers.js';

// wasm with our kernels: resnet and cnn steps on the cpu backend made this file take seconds a step.
beforeAll(useFastWasm);

describe('FreezePlugin on resnet (BatchNorm, functional model rebuilt in the worker)', () => {
  it('resnet: freezes its stem (conv + BatchNorm) without touching the stem moving statistics', async () => {
    const trainer = createTrainer(createModel('resnet', { seed: 2 }));
    // The drift trend with thresholds that accept any drift: this test is about what a freeze does, not when it happens.
    trainer.use(freezePlugin({ criterion: 'drift-trend', warmupSteps: 1, evalEvery: 1, referenceLag: 1, window: 2, patience: 1, driftThreshold: 1, tolerance: 1, maxFrozenUnits: 2, deterministic: true }));
    const stemStatistics = trainer.units.slice(0, 2).flatMap((unit) => unit.stateVariables ?? []);
    expect(stemStatistics.length).toBe(2); // stem BN: moving mean and variance
    const batch = tf.tidy(() => ({ x: tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 5), y: tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10) }));
    let frozenAtStep = -1;
    let statisticsAtFreeze: Float32Array[] = [];
    trainer.events.on('freeze', (event) => {
      if (event.index !== 1) return;
      frozenAtStep = event.step;
      statisticsAtFreeze = stemStatistics.map((variable) => variable.dataSync().slice() as Float32Array);
    });
    for (let step = 0; step < 16 && trainer.frozenPrefix < 2; step++) await trainer.step(batch);
    expect(trainer.frozenPrefix).toBe(2);
    expect(frozenAtStep).toBeGreaterThan(0);
    // The freeze applies to the step it was decided in (beforeForward), so nothing ran in training mode since.
    for (let step = 0; step < 2; step++) await trainer.step(batch);
    stemStatistics.forEach((variable, i) => expect(bitIdentical(variable.dataSync(), statisticsAtFreeze[i]!)).toBe(true));
    const trained = trainer.units[2]!.stateVariables ?? [];
    expect(trained.length).toBeGreaterThan(0);
    tf.dispose([batch.x, batch.y]);
    await trainer.dispose();
  });

  it("the default maxFrozenUnits 'all-but-classifier' keeps the units after the last convolution training: resnet's head, cnn's dense1 and head, an mlp's last two", async () => {
    for (const [model, kept] of [['resnet', 1], ['cnn', 2], ['mlp', 2]] as const) {
      const trainer = createTrainer(createModel(model, { seed: 1 }));
      const plugin = freezePlugin({ reference: 'main-thread' });
      trainer.use(plugin);
      expect(plugin.maxFrozenUnits, model).toBe(trainer.units.length - kept);
      expect(plugin.report().regime.maxFrozenUnits, model).toBe(trainer.units.length - kept);
      await trainer.dispose();
    }
  });
});
