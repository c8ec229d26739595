import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '@trainhooks/core-hooks';
import { createModel } from '@trainhooks/cli';
import { bitIdentical, useFastWasm } from './helpers.js';

// wasm with our kernels: on the cpu backend this file took 57 s inside the suite, on wasm 1.6 s alone.
beforeAll(useFastWasm);

function imageBatch(size: number, seed: number) {
  return tf.tidy(() => ({
    x: tf.randomUniform([size, 28, 28, 1], 0, 1, 'float32', seed),
    y: tf.cast(tf.oneHot(tf.randomUniform([size], 0, 10, 'int32', seed + 1), 10), 'float32'),
  }));
}

async function kernelCounts(run: () => Promise<unknown>): Promise<Map<string, number>> {
  const info = await tf.profile(async () => void (await run()));
  const counts = new Map<string, number>();
  for (const kernel of info.kernels) counts.set(kernel.name, (counts.get(kernel.name) ?? 0) + 1);
  return counts;
}

describe('a frozen prefix on resnet (BatchNorm, residual blocks)', () => {
  it('splits the functional resnet into units at its cuts: one unit per residual block', () => {
    const trainer = createTrainer(createModel('resnet', { seed: 1 }));
    const names = trainer.units.map((unit) => unit.name);
    expect(names[0]).toBe('stem_conv');
    expect(names[1]).toBe('stem_bn+stem_relu');
    const blocks = names.slice(2, 8);
    blocks.forEach((name, i) => expect(name).toContain(`stage${Math.floor(i / 2) + 1}_block${(i % 2) + 1}_add`));
    expect(names[names.length - 1]).toBe('output');
    expect(trainer.units).toHaveLength(9);
  });

  it('keeps moving statistics of frozen units, runs no backward kernel for them', async () => {
    const model = createModel('resnet', { seed: 2 });
    const trainer = createTrainer(model);
    const frozenUnits = 4; // stem conv, stem BN, both blocks of stage 1
    trainer.frozenPrefix = frozenUnits;
    const frozenStats = trainer.units.slice(0, frozenUnits).flatMap((unit) => unit.stateVariables ?? []);
    const trainedStats = trainer.units.slice(frozenUnits).flatMap((unit) => unit.stateVariables ?? []);
    const frozenWeights = trainer.units.slice(0, frozenUnits).flatMap((unit) => unit.variables);
    expect(frozenStats.length).toBe(2 * 5); // moving mean + variance of 5 BatchNorms
    const before = [...frozenStats, ...frozenWeights].map((v) => v.dataSync().slice());
    const trainedBefore = trainedStats.map((v) => v.dataSync().slice());

    const batch = imageBatch(8, 3);
    const losses: number[] = [];
    const counts = await kernelCounts(async () => losses.push((await trainer.step(batch)).loss!));
    for (let step = 1; step < 10; step++) losses.push((await trainer.step(batch)).loss!);

    [...frozenStats, ...frozenWeights].forEach((v, i) => expect(bitIdentical(v.dataSync(), before[i]!)).toBe(true));
    trainedStats.forEach((v, i) => expect(bitIdentical(v.dataSync(), trainedBefore[i]!)).toBe(false));

    // Conv layers: stem 1 + stage1 4 frozen; stage2 5 + stage3 5 trained (each with a projection).
    const trainedConvs = 10;
    expect(counts.get('Conv2DBackpropFilter')).toBe(trainedConvs);
    // Input gradients: at most one per trained conv. (tfjs' fused conv gradient also computes dx of the
    // first trained convs, whose input comes from the frozen prefix and is thrown away.)
    expect(counts.get('Conv2DBackpropInput')).toBeLessThanOrEqual(trainedConvs);
    expect(losses[9]!).toBeLessThan(losses[0]!);
    tf.dispose([batch.x, batch.y]);
  });

  it('without a frozen prefix every conv gets its filter gradient, and the loss falls', async () => {
    const trainer = createTrainer(createModel('resnet', { seed: 2 }));
    const batch = imageBatch(8, 5);
    const losses: number[] = [];
    const counts = await kernelCounts(async () => losses.push((await trainer.step(batch)).loss!));
    for (let step = 1; step < 4; step++) losses.push((await trainer.step(batch)).loss!);
    expect(counts.get('Conv2DBackpropFilter')).toBe(15);
    expect(losses[3]!).toBeLessThan(losses[0]!);
    tf.dispose([batch.x, batch.y]);
  });
});
