// replaceHead: the backbone's layers (and so its weights and BatchNorm statistics) shared, a new seeded Dense head on top.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, replaceHead } from '@trainhooks/core-hooks';
import { bitIdentical, useCpu } from './helpers.js';

beforeAll(useCpu);

const seeded = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** dense → BatchNorm (with non-default moving statistics) → dense softmax head. */
function sequentialModel(): tfl.Sequential {
  const model = tfl.sequential({
    name: 'seq_backbone',
    layers: [
      tfl.layers.dense({ inputShape: [6], units: 8, activation: 'relu', kernelInitializer: seeded(1) }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: seeded(2), name: 'classifier' }),
    ],
  });
  setMovingStatistics(model.layers[1]!);
  return model;
}

/** input → dense → BatchNorm, added to a projection of the input (a skip connection) → dense softmax head. */
function functionalModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [6] });
  const hidden = tfl.layers.dense({ units: 8, activation: 'relu', kernelInitializer: seeded(3) }).apply(input) as tfl.SymbolicTensor;
  const normalised = tfl.layers.batchNormalization().apply(hidden) as tfl.SymbolicTensor;
  const skip = tfl.layers.dense({ units: 8, kernelInitializer: seeded(4) }).apply(input) as tfl.SymbolicTensor;
  const features = tfl.layers.add().apply([normalised, skip]) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: seeded(5), name: 'classifier' }).apply(features) as tfl.SymbolicTensor;
  const model = tfl.model({ name: 'functional_backbone', inputs: input, outputs: output });
  setMovingStatistics(model.layers.find((layer) => layer.getClassName() === 'BatchNormalization')!);
  return model;
}

/** Moving mean and variance away from their initial 0 and 1 (gamma, beta, movingMean, movingVariance). */
function setMovingStatistics(batchNorm: tfl.layers.Layer): void {
  const [gamma, beta] = batchNorm.getWeights();
  batchNorm.setWeights([gamma!, beta!, tf.linspace(-1, 1, 8), tf.linspace(0.5, 3, 8)]);
}

const headOf = (model: tfl.LayersModel) => model.layers[model.layers.length - 1]!;
const values = (tensors: tf.Tensor[]) => tensors.map((t) => t.dataSync().slice());

/** What the layer below the head outputs for x. */
function features(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  const backbone = tfl.model({ inputs: model.inputs, outputs: headOf(model).input as tfl.SymbolicTensor });
  return (backbone.predict(x) as tf.Tensor).dataSync() as Float32Array;
}

describe.each([
  ['a Sequential', sequentialModel],
  ['a functional model', functionalModel],
])('replaceHead on %s', (_, build) => {
  it('gives an output of the new number of classes, with the backbone layers themselves under a new head', () => {
    const model = build();
    const before = model.layers.slice(0, -1).map((layer) => values(layer.getWeights()));
    const replaced = replaceHead(model, 7, { seed: 1 });
    expect(replaced.outputs).toHaveLength(1);
    expect(replaced.outputs[0]!.shape).toEqual([null, 7]);
    const x = tf.randomNormal([5, 6], 0, 1, 'float32', 9);
    expect((replaced.predict(x) as tf.Tensor).shape).toEqual([5, 7]);

    // The backbone: the same layer objects, the same variables.
    expect(replaced.layers.length).toBe(model.layers.length);
    replaced.layers.slice(0, -1).forEach((layer, i) => expect(layer).toBe(model.layers[i]));
    const backboneWeights = model.layers.slice(0, -1).flatMap((layer) => layer.weights);
    const headWeights = new Set(headOf(replaced).weights);
    const replacedBackbone = replaced.weights.filter((weight) => !headWeights.has(weight));
    expect(replacedBackbone.length).toBe(backboneWeights.length);
    expect(replacedBackbone.every((weight) => backboneWeights.includes(weight))).toBe(true);
    // ... which replaceHead left as they were, BatchNorm moving statistics included.
    const batchNorm = replaced.layers.find((layer) => layer.getClassName() === 'BatchNormalization')!;
    expect(batchNorm.nonTrainableWeights.map((w) => w.originalName)).toEqual([expect.stringMatching(/moving_mean$/), expect.stringMatching(/moving_variance$/)]);
    expect([...batchNorm.getWeights()[2]!.dataSync()]).toEqual([...tf.linspace(-1, 1, 8).dataSync()]);
    expect([...batchNorm.getWeights()[3]!.dataSync()]).toEqual([...tf.linspace(0.5, 3, 8).dataSync()]);
    replaced.layers.slice(0, -1).forEach((layer, i) =>
      layer.getWeights().forEach((weight, j) => expect(bitIdentical(weight.dataSync(), before[i]![j]!)).toBe(true)),
    );
    // The new model computes the old backbone's features (inference mode: the moving statistics).
    expect(bitIdentical(features(replaced, x), features(model, x))).toBe(true);
    // Shared, not copied: a change to the original's backbone is seen by the new model.
    batchNorm.setWeights([...batchNorm.getWeights().slice(0, 2), tf.fill([8], 0.25), tf.fill([8], 2)]);
    expect([...(model.layers.find((layer) => layer.getClassName() === 'BatchNormalization')!.getWeights()[2]!.dataSync())]).toEqual(new Array(8).fill(0.25));
  });

  it('puts on a new Dense head: its own variables, the old activation and name, seeded', () => {
    const model = build();
    const oldHead = headOf(model);
    const replaced = replaceHead(model, 4, { seed: 11 });
    const head = headOf(replaced);
    expect(head).not.toBe(oldHead);
    expect(head.getClassName()).toBe('Dense');
    expect(head.name).toBe(oldHead.name);
    expect(head.getConfig().activation).toBe('softmax');
    expect(head.getConfig().units).toBe(4);
    const [kernel, bias] = head.getWeights();
    expect(kernel!.shape).toEqual([8, 4]);
    expect([...bias!.dataSync()]).toEqual([0, 0, 0, 0]);
    // Same shape as the old head, but different weights, in different variables.
    expect(bitIdentical(kernel!.dataSync(), oldHead.getWeights()[0]!.dataSync())).toBe(false);
    const oldVariables = new Set(oldHead.weights);
    head.weights.forEach((weight) => expect(oldVariables.has(weight)).toBe(false));
    // The same seed gives the same head; another seed another.
    const again = headOf(replaceHead(model, 4, { seed: 11 })).getWeights()[0]!;
    const other = headOf(replaceHead(model, 4, { seed: 12 })).getWeights()[0]!;
    expect(bitIdentical(again.dataSync(), kernel!.dataSync())).toBe(true);
    expect(bitIdentical(other.dataSync(), kernel!.dataSync())).toBe(false);
    // Options: another activation and name.
    const linear = headOf(replaceHead(model, 2, { seed: 1, activation: 'linear', name: 'new_head' }));
    expect(linear.getConfig().activation).toBe('linear');
    expect(linear.name).toBe('new_head');
  });

  it('leaves the original model working, with its own head', () => {
    const model = build();
    const x = tf.randomNormal([3, 6], 0, 1, 'float32', 2);
    const before = (model.predict(x) as tf.Tensor).dataSync().slice();
    const replaced = replaceHead(model, 10, { seed: 3 });
    expect(model.outputs[0]!.shape).toEqual([null, 4]);
    expect(bitIdentical((model.predict(x) as tf.Tensor).dataSync(), before)).toBe(true);
    expect((replaced.predict(x) as tf.Tensor).shape).toEqual([3, 10]);
  });
});

describe('replaceHead', () => {
  it('keeps a Sequential a tfl.Sequential (and a functional model functional)', () => {
    const sequential = replaceHead(sequentialModel(), 3, { seed: 1 });
    expect(sequential).toBeInstanceOf(tfl.Sequential);
    expect(sequential.name).toBe('seq_backbone');
    const functional = replaceHead(functionalModel(), 3, { seed: 1 });
    expect(functional).not.toBeInstanceOf(tfl.Sequential);
    expect(functional).toBeInstanceOf(tfl.LayersModel);
    expect(functional.name).toBe('functional_backbone');
  });

  it('trains the new head with model.fit after compile (the result is a plain, uncompiled model)', async () => {
    const replaced = replaceHead(sequentialModel(), 3, { seed: 1 });
    expect(replaced.optimizer).toBeUndefined();
    replaced.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 4);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3);
    const history = await replaced.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 });
    expect(history.history.loss).toHaveLength(3);
    expect(Number.isFinite(history.history.loss[2] as number)).toBe(true);
  });

  it('refuses a model whose last layer is not Dense', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [6], units: 4 }), tfl.layers.activation({ activation: 'softmax' })],
    });
    expect(() => replaceHead(model, 3)).toThrow('replaceHead: the last layer must be Dense (the classifier), got Activation');
    const input = tfl.input({ shape: [28, 28, 1] });
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(tfl.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(input)) as tfl.SymbolicTensor;
    expect(() => replaceHead(tfl.model({ inputs: input, outputs: pooled }), 3)).toThrow(/the last layer must be Dense \(the classifier\), got GlobalAveragePooling2D/);
  });

  it('refuses a model of several outputs', () => {
    const input = tfl.input({ shape: [6] });
    const a = tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ units: 3 }).apply(input) as tfl.SymbolicTensor;
    expect(() => replaceHead(tfl.model({ inputs: input, outputs: [a, b] }), 3)).toThrow(/the model has 2 outputs; a head can be replaced on a single-output model only/);
  });

  it.each([0, -1, 2.5, NaN, Infinity, '10' as unknown as number])('refuses classes = %s', (classes) => {
    expect(() => replaceHead(sequentialModel(), classes)).toThrow(`replaceHead: classes must be an integer ≥ 1, got ${String(classes)}`);
  });
});

describe('trainer.pretrainedUnits', () => {
  const trainerOf = (model: tfl.LayersModel, pretrainedUnits?: number | 'all') =>
    createTrainer(model, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', ...(pretrainedUnits === undefined ? {} : { pretrainedUnits }) });

  it('is every unit below the new head for a replaceHead model (Sequential and functional), 0 for any other', () => {
    for (const build of [sequentialModel, functionalModel]) {
      const replaced = trainerOf(replaceHead(build(), 3));
      expect(replaced.pretrainedUnits).toBe(replaced.units.length - 1);
      expect(trainerOf(build()).pretrainedUnits).toBe(0);
    }
  });

  it('follows options.pretrainedUnits, and refuses values that are not a unit count', () => {
    const model = sequentialModel();
    expect(trainerOf(model, 2).pretrainedUnits).toBe(2);
    expect(trainerOf(model, 'all').pretrainedUnits).toBe(trainerOf(model).units.length);
    expect(trainerOf(replaceHead(sequentialModel(), 3), 0).pretrainedUnits).toBe(0);
    expect(() => trainerOf(model, 99)).toThrow(/options\.pretrainedUnits is 99, but the model has \d+ units/);
    for (const bad of [-1, 1.5, 'some']) expect(() => trainerOf(model, bad as number)).toThrow(/options\.pretrainedUnits must be a non-negative integer or 'all'/);
  });
});
