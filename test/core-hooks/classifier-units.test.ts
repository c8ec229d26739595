import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { unitsFromLayersModel } from '@trainhooks/core-hooks';
import { classifierUnits } from '@trainhooks/core-hooks/internal';
import { denseModel, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('classifierUnits', () => {
  it('a CNN: the dense layers after the last convolution (its Flatten and Dropout belong to the conv unit)', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 2, kernelSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dropout({ rate: 0.25 }),
        tfl.layers.dense({ units: 4, activation: 'relu' }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    expect(classifierUnits(unitsFromLayersModel(model))).toBe(2);
  });

  it('a ResNet: a residual block and BatchNorm units before the pooled head, so only the head', () => {
    const input = tfl.input({ shape: [6, 6, 1] });
    const stem = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
    const normed = tfl.layers.batchNormalization().apply(stem) as tfl.SymbolicTensor;
    const inner = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(normed) as tfl.SymbolicTensor;
    const added = tfl.layers.add().apply([normed, inner]) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(added) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 3 }).apply(pooled) as tfl.SymbolicTensor;
    const units = unitsFromLayersModel(tfl.model({ inputs: input, outputs: output }));
    expect(units.length).toBeGreaterThanOrEqual(3);
    expect(classifierUnits(units)).toBe(1);
  });

  it('null without a convolution (an MLP, also on image input) or when the last unit convolves', () => {
    expect(classifierUnits(unitsFromLayersModel(denseModel(1)))).toBeNull();
    const imageMlp = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [4, 4, 1] }), tfl.layers.dense({ units: 4 }), tfl.layers.dense({ units: 2 })],
    });
    expect(classifierUnits(unitsFromLayersModel(imageMlp))).toBeNull();
    const fullyConvolutional = tfl.sequential({
      layers: [tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 3 }), tfl.layers.conv2d({ filters: 2, kernelSize: 2 })],
    });
    expect(classifierUnits(unitsFromLayersModel(fullyConvolutional))).toBeNull();
    expect(classifierUnits([])).toBeNull();
  });
});
