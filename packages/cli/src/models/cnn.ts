// The convolutional network of tfjs-examples/mnist-node (model.js), unchanged apart from the seed/dropout options.
import * as tfl from '@tensorflow/tfjs-layers';
import { DEFAULT_MODEL_OPTIONS, INPUT_SHAPES, type ModelOptions } from './model-options.js';
import { kernelInitializers } from './seeded-initializers.js';

export function createCnnModel(options: ModelOptions = {}): tfl.Sequential {
  const { seed, dropout } = { ...DEFAULT_MODEL_OPTIONS, ...options };
  const kernel = kernelInitializers('glorotUniform', seed);
  const conv = (name: string, filters: number, first = false) =>
    tfl.layers.conv2d({
      name,
      ...(first ? { inputShape: [...INPUT_SHAPES.image] } : {}),
      filters,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: kernel(),
    });

  const model = tfl.sequential({ name: 'cnn' });
  model.add(conv('conv1', 32, true));
  model.add(conv('conv2', 32));
  model.add(tfl.layers.maxPooling2d({ name: 'pool1', poolSize: [2, 2] }));
  model.add(conv('conv3', 64));
  model.add(conv('conv4', 64));
  model.add(tfl.layers.maxPooling2d({ name: 'pool2', poolSize: [2, 2] }));
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  // No seed for Dropout: tfjs re-seeds on every call, so a seeded Dropout would drop the same units every step.
  if (dropout) model.add(tfl.layers.dropout({ name: 'dropout1', rate: 0.25 }));
  model.add(tfl.layers.dense({ name: 'dense1', units: 512, activation: 'relu', kernelInitializer: kernel() }));
  if (dropout) model.add(tfl.layers.dropout({ name: 'dropout2', rate: 0.5 }));
  model.add(tfl.layers.dense({ name: 'output', units: 10, activation: 'softmax', kernelInitializer: kernel() }));

  // tfjs-examples passes the string 'rmsprop' (lr 0.001); we do the same so timings compare with theirs.
  model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}
