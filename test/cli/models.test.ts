import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { INPUT_SHAPES, MODEL_INPUT_LAYOUT, MODEL_NAMES, createModel, loadRunModel, pretrainedUnitsOption } from '@trainhooks/cli/internal';
import { createTrainer } from '@trainhooks/core-hooks';

// Counted by hand from the architectures (see the model files).
const EXPECTED_PARAMS = { cnn: 594_922, mlp: 1_720_330, resnet: 176_090 } as const;

function weightsOf(model: tfl.LayersModel): Buffer[] {
  return model.getWeights().map((w) => Buffer.from(w.dataSync<'float32'>().buffer));
}

// Byte comparison: toEqual on millions of floats takes seconds.
const sameBytes = (a: Buffer, b: Buffer) => a.equals(b);

describe.each(MODEL_NAMES)('%s', (name) => {
  it('builds, compiles and maps a batch to 10 probabilities', () => {
    const model = createModel(name, { seed: 1 });
    expect(model.countParams()).toBe(EXPECTED_PARAMS[name]);
    expect(model.optimizer).toBeDefined();
    expect(model.inputs[0].shape).toEqual([null, ...INPUT_SHAPES[MODEL_INPUT_LAYOUT[name]]]);
    const probabilities = tf.tidy(() => {
      const x = tf.randomUniform([3, ...INPUT_SHAPES[MODEL_INPUT_LAYOUT[name]]], 0, 1, 'float32', 7);
      return model.predict(x) as tf.Tensor;
    });
    expect(probabilities.shape).toEqual([3, 10]);
    const rowSums = tf.tidy(() => tf.sum(probabilities, 1)).dataSync();
    for (const sum of rowSums) expect(sum).toBeCloseTo(1, 5);
    tf.dispose(probabilities);
    model.dispose();
  });

  it('starts from identical weights for the same seed, different ones for another seed', () => {
    const [a, b, c] = [createModel(name, { seed: 11 }), createModel(name, { seed: 11 }), createModel(name, { seed: 12 })];
    const [wa, wb, wc] = [a, b, c].map(weightsOf);
    expect(wa.length).toBe(wb.length);
    wa.forEach((w, i) => expect(sameBytes(w, wb[i])).toBe(true));
    expect(sameBytes(wa[0], wc[0])).toBe(false);
    // Each layer gets its own seed: equal-shaped kernels must not be copies of each other.
    const kernels = a.trainableWeights.filter((w) => w.shape.length > 1);
    const sameShape = kernels.filter((k) => k.shape.join() === kernels[1].shape.join());
    if (sameShape.length > 1) {
      const [first, second] = sameShape.map((k) => Buffer.from(k.read().dataSync<'float32'>().buffer));
      expect(sameBytes(first, second)).toBe(false);
    }
    [a, b, c].forEach((m) => m.dispose());
  });

  it('has no Dropout layer with dropout: false', () => {
    const model = createModel(name, { dropout: false });
    expect(model.layers.map((l) => l.getClassName())).not.toContain('Dropout');
    model.dispose();
  });
});

describe('model specifics', () => {
  it('cnn is the mnist-node network: 4 convs, 2 pools, 2 dropouts, rmsprop', () => {
    const model = createModel('cnn');
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'Conv2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dropout', 'Dense', 'Dropout', 'Dense',
    ]);
    expect(model.optimizer.getClassName()).toBe('RMSProp');
    model.dispose();
  });

  it('mlp has six hidden dense layers of 512 and Adam', () => {
    const model = createModel('mlp');
    expect(model.layers.map((l) => l.outputShape)).toEqual([...Array(6).fill([null, 512]), [null, 10]]);
    expect(model.optimizer.getClassName()).toBe('Adam');
    model.dispose();
  });

  it('resnet is functional, with 6 residual adds, BatchNorm and strided projections', () => {
    const model = createModel('resnet');
    const classes = model.layers.map((l) => l.getClassName());
    expect(model.getClassName()).not.toBe('Sequential');
    expect(classes.filter((c) => c === 'Add')).toHaveLength(6);
    expect(classes.filter((c) => c === 'BatchNormalization')).toHaveLength(1 + 12 + 2);
    expect(model.getLayer('stage3_block2_add').outputShape).toEqual([null, 7, 7, 64]);
    expect(model.getLayer('stage2_block1_proj_conv').outputShape).toEqual([null, 14, 14, 32]);
    expect(model.optimizer.getClassName()).toBe('Momentum');
    model.dispose();
  });

  it('gives every model its own optimizer instance', () => {
    const [a, b] = [createModel('mlp'), createModel('mlp')];
    expect(a.optimizer).not.toBe(b.optimizer);
    [a, b].forEach((m) => m.dispose());
  });

  it('rejects an unknown name', () => {
    expect(() => createModel('vgg' as never)).toThrow(/Unknown model 'vgg'/);
  });
});

describe('what the trainer is told of pretrained units', () => {
  it("a shipped backbone with a new head is marked by replaceHead; a file's model with its own head is 'all'; a model by name is from scratch", async () => {
    expect(pretrainedUnitsOption({ model: 'cnn' })).toEqual({});
    expect(pretrainedUnitsOption({ model: 'pretrained:cnn' })).toEqual({});
    expect(pretrainedUnitsOption({ model: 'pretrained:cnn', newHead: false })).toEqual({ pretrainedUnits: 'all' });
    expect(pretrainedUnitsOption({ model: '/models/own/model.json' })).toEqual({ pretrainedUnits: 'all' });
    expect(pretrainedUnitsOption({ model: '/models/own/model.json', newHead: true })).toEqual({});
    const trainer = createTrainer(await loadRunModel({ model: 'pretrained:cnn', seed: 1 }), { optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
    expect(trainer.pretrainedUnits).toBe(trainer.units.length - 1);
  });
});
