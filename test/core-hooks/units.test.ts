import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { unitsFromLayersModel, unitWeights } from '@trainhooks/core-hooks';
import { denseModel, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('unitsFromLayersModel', () => {
  it('Sequential: a layer with weights plus the weightless layers after it', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [4, 2] }),
        tfl.layers.dense({ units: 6 }),
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.dropout({ rate: 0.5 }),
        tfl.layers.dense({ units: 3 }),
      ],
    });
    const units = unitsFromLayersModel(model);
    expect(units).toHaveLength(2);
    expect(units[0]!.name).toMatch(/^flatten.*\+dense.*\+activation.*\+dropout/);
    expect(units[0]!.variables).toHaveLength(2);
    expect(units.map((u) => u.variables.length)).toEqual([2, 2]);
    expect(unitsFromLayersModel(denseModel(1))).toHaveLength(3);
  });

  it('functional: branches are never cut, also when they start at the model input', () => {
    const input = tfl.input({ shape: [8] });
    const left = tfl.layers.dense({ units: 4, name: 'left' }).apply(input) as tfl.SymbolicTensor;
    const right = tfl.layers.dense({ units: 4, name: 'right' }).apply(input) as tfl.SymbolicTensor;
    const joined = tfl.layers.add({ name: 'join' }).apply([left, right]) as tfl.SymbolicTensor;
    const middle = tfl.layers.dense({ units: 4, name: 'middle' }).apply(joined) as tfl.SymbolicTensor;
    const skip = tfl.layers.dense({ units: 4, name: 'skip' }).apply(middle) as tfl.SymbolicTensor;
    const residual = tfl.layers.add({ name: 'residual' }).apply([middle, skip]) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 2, name: 'output' }).apply(residual) as tfl.SymbolicTensor;
    const units = unitsFromLayersModel(tfl.model({ inputs: input, outputs: output }));
    const layerSets = units.map((u) => u.name.split('+').sort());
    expect(layerSets).toEqual([['join', 'left', 'right'], ['middle'], ['residual', 'skip'], ['output']]);
    // Each unit's forward FLOPs per sample: 2 per multiply-add of its dense layers.
    expect(units.map((u) => u.forwardFlops)).toEqual([2 * 2 * 8 * 4, 2 * 4 * 4, 2 * 4 * 4, 2 * 4 * 2]);
  });

  it('forward FLOPs per sample of each unit: its convolutions at their output size, its dense layers; none for a BatchNorm', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same' }),
        tfl.layers.batchNormalization(),
        tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2 }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3 }),
      ],
    });
    const units = unitsFromLayersModel(model);
    // 12×12 out of the first conv; (12 − 3) / 2 + 1 = 5×5 out of the strided one (the pool after it
    // does not count); 1×1×16 out of the depthwise one on the 2×2 pooled map.
    expect(units.map((u) => u.forwardFlops)).toEqual([2 * 144 * 9 * 4, 0, 2 * 25 * 9 * 4 * 8, 2 * 1 * 4 * 8 * 2, 2 * 16 * 3]);
  });
});

describe('unitWeights', () => {
  it('lists each unit\'s trainable variables, then its state variables, with where each sits', () => {
    const v = (name: string) => tf.variable(tf.zeros([1]), true, `${name}_${Math.random()}`);
    const [a, b, mean, c] = [v('a'), v('b'), v('mean'), v('c')];
    const units = [
      { name: 'u0', variables: [a, b], stateVariables: [mean], apply: (x: tf.Tensor) => x },
      { name: 'u1', variables: [c], apply: (x: tf.Tensor) => x },
    ];
    expect(unitWeights(units).map(({ unit, index, state, variable }) => [unit, index, state, variable])).toEqual([
      [0, 0, false, a],
      [0, 1, false, b],
      [0, 0, true, mean],
      [1, 0, false, c],
    ]);
    tf.dispose([a, b, mean, c]);
  });
});
