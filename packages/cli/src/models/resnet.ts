// A small CIFAR-style ResNet as a functional model: the residual adds make blocks, not layers, the freezable units.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { INPUT_SHAPES, type ModelOptions } from './model-options.js';
import { kernelInitializers } from './seeded-initializers.js';

/** Channels of the three stages; stages 2 and 3 halve the resolution (28 → 14 → 7). */
export const RESNET_STAGE_FILTERS = [16, 32, 64] as const;
export const RESNET_BLOCKS_PER_STAGE = 2;

type Kernel = ReturnType<typeof kernelInitializers>;

/**
 * Compiled with SGD + momentum (0.05, 0.9), the optimiser ResNets were designed with. It also keeps only one
 * slot per variable and no optimiser-wide step counter (Adam's bias-correction powers are shared, see DESIGN
 * fact 1), so per-variable optimiser state for skipped variables is exact, and it exercises a third optimiser
 * next to the CNN's RMSProp and the MLP's Adam.
 */
export function createResnetModel(options: ModelOptions = {}): tfl.LayersModel {
  const kernel = kernelInitializers('heNormal', options.seed);
  const input = tfl.input({ name: 'image', shape: [...INPUT_SHAPES.image] });

  let x = conv(kernel, 'stem_conv', 16, 3, 1).apply(input) as tfl.SymbolicTensor;
  x = batchNorm('stem_bn').apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: 'stem_relu' }).apply(x) as tfl.SymbolicTensor;

  let channels = 16;
  RESNET_STAGE_FILTERS.forEach((filters, stage) => {
    for (let block = 0; block < RESNET_BLOCKS_PER_STAGE; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      x = residualBlock(kernel, x, `stage${stage + 1}_block${block + 1}`, channels, filters, stride);
      channels = filters;
    }
  });

  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({ name: 'output', units: 10, activation: 'softmax', kernelInitializer: kernel() })
    .apply(x) as tfl.SymbolicTensor;

  const model = tfl.model({ name: 'resnet', inputs: input, outputs: output });
  model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** conv-BN-relu-conv-BN, plus the shortcut (a strided 1×1 conv-BN projection when the shape changes), then relu. */
function residualBlock(
  kernel: Kernel,
  input: tfl.SymbolicTensor,
  name: string,
  inChannels: number,
  filters: number,
  stride: number,
): tfl.SymbolicTensor {
  let y = conv(kernel, `${name}_conv1`, filters, 3, stride).apply(input) as tfl.SymbolicTensor;
  y = batchNorm(`${name}_bn1`).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU({ name: `${name}_relu1` }).apply(y) as tfl.SymbolicTensor;
  y = conv(kernel, `${name}_conv2`, filters, 3, 1).apply(y) as tfl.SymbolicTensor;
  y = batchNorm(`${name}_bn2`).apply(y) as tfl.SymbolicTensor;

  let shortcut = input;
  if (stride !== 1 || inChannels !== filters) {
    shortcut = conv(kernel, `${name}_proj_conv`, filters, 1, stride).apply(input) as tfl.SymbolicTensor;
    shortcut = batchNorm(`${name}_proj_bn`).apply(shortcut) as tfl.SymbolicTensor;
  }
  const sum = tfl.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tfl.SymbolicTensor;
  return tfl.layers.reLU({ name: `${name}_relu2` }).apply(sum) as tfl.SymbolicTensor;
}

/** No bias: the BatchNormalization after it has its own shift. */
function conv(kernel: Kernel, name: string, filters: number, kernelSize: number, strides: number) {
  return tfl.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: kernel() });
}

/** momentum 0.9 instead of tfjs' 0.99 so the moving statistics are usable after a short demo run. */
function batchNorm(name: string) {
  return tfl.layers.batchNormalization({ name, momentum: 0.9 });
}
