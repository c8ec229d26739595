import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createMnistCoreModel } from '@trainhooks/cli';

describe('mnist-core raw-variable model', () => {
  it('declares three units whose chain maps images to probabilities', () => {
    const model = createMnistCoreModel(1, 'core_a');
    expect(model.units.map((u) => u.name)).toEqual(['conv1', 'conv2', 'dense']);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 3);
    const shapes: number[][] = [];
    const probabilities = model.units.reduce<tf.Tensor>((activation, unit) => {
      const out = unit.apply(activation, { training: true });
      shapes.push(out.shape);
      return out;
    }, x);
    expect(shapes).toEqual([[4, 14, 14, 8], [4, 7, 7, 16], [4, 10]]);
    const sums = tf.tidy(() => tf.sum(probabilities, 1)).dataSync();
    for (const sum of sums) expect(sum).toBeCloseTo(1, 5);
    expect(tf.min(probabilities).dataSync()[0]).toBeGreaterThanOrEqual(0);
    model.dispose();
  });

  it('accepts flat input and leaks no intermediate tensors', () => {
    const model = createMnistCoreModel(1, 'core_b');
    const x = tf.zeros([2, 784]);
    const before = tf.memory().numTensors;
    const out = model.apply(x, { training: false });
    expect(out.shape).toEqual([2, 10]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, out]);
    model.dispose();
  });

  it('has uniquely named variables, seeded, so several models coexist', () => {
    const a = createMnistCoreModel(7);
    const b = createMnistCoreModel(7);
    const c = createMnistCoreModel(8, 'custom');
    const names = (m: typeof a) => m.units.flatMap((u) => u.variables.map((v) => v.name));
    expect(names(a)).toEqual(['mnist_core/conv1/kernel', 'mnist_core/conv2/kernel', 'mnist_core/dense/kernel', 'mnist_core/dense/bias']);
    expect(names(b)[0]).toBe('mnist_core_2/conv1/kernel');
    expect(names(c)[0]).toBe('custom/conv1/kernel');
    a.units.forEach((unit, i) => unit.variables.forEach((v, j) => expect(v.dataSync()).toEqual(b.units[i].variables[j].dataSync())));
    expect(a.units[0].variables[0].dataSync()).not.toEqual(c.units[0].variables[0].dataSync());
    expect(() => createMnistCoreModel(1, 'custom')).toThrow();
    [a, b, c].forEach((m) => m.dispose());
  });

  it('trains: gradients reach every variable', () => {
    const model = createMnistCoreModel(3, 'core_train');
    const variables = model.units.flatMap((u) => u.variables);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })) as tf.Scalar, variables);
    expect(Object.keys(grads).sort()).toEqual(variables.map((v) => v.name).sort());
    for (const g of Object.values(grads)) expect(tf.tidy(() => tf.sum(tf.abs(g))).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, y, ...Object.values(grads)]);
    model.dispose();
  });
});
