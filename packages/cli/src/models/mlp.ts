// A deep dense network: its weights are all matmuls, the case where gradient pruning and freezing pay most on CPU.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { INPUT_SHAPES, type ModelOptions } from './model-options.js';
import { kernelInitializers } from './seeded-initializers.js';

export const MLP_HIDDEN_LAYERS = 6;
export const MLP_HIDDEN_UNITS = 512;

/** Has no Dropout, so `dropout` changes nothing here. */
export function createMlpModel(options: ModelOptions = {}): tfl.Sequential {
  const kernel = kernelInitializers('glorotUniform', options.seed);
  const model = tfl.sequential({ name: 'mlp' });
  for (let i = 0; i < MLP_HIDDEN_LAYERS; i++) {
    model.add(
      tfl.layers.dense({
        name: `dense${i + 1}`,
        ...(i === 0 ? { inputShape: [...INPUT_SHAPES.flat] } : {}),
        units: MLP_HIDDEN_UNITS,
        activation: 'relu',
        kernelInitializer: kernel(),
      }),
    );
  }
  model.add(tfl.layers.dense({ name: 'output', units: 10, activation: 'softmax', kernelInitializer: kernel() }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}
