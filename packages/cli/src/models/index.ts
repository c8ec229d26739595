// The reference models by name, with the input layout each expects.
import type * as tfl from '@tensorflow/tfjs-layers';
import { createCnnModel } from './cnn.js';
import { createMlpModel } from './mlp.js';
import { createResnetModel } from './resnet.js';
import type { InputLayout, ModelOptions } from './model-options.js';

export * from './model-options.js';
export * from './cnn.js';
export * from './mlp.js';
export * from './resnet.js';
export * from './mnist-core.js';
export * from './pretrained.js';

export const MODEL_NAMES = ['cnn', 'mlp', 'resnet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** 'flat' models take n×784 (toTensors/toBatchDataset with flatten: true), 'image' models n×28×28×1. */
export const MODEL_INPUT_LAYOUT: Record<ModelName, InputLayout> = {
  cnn: 'image',
  mlp: 'flat',
  resnet: 'image',
};

const MODEL_FACTORIES: Record<ModelName, (options: ModelOptions) => tfl.LayersModel> = {
  cnn: createCnnModel,
  mlp: createMlpModel,
  resnet: createResnetModel,
};

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** A new, compiled model with its own optimizer instance. */
export function createModel(name: ModelName, options: ModelOptions = {}): tfl.LayersModel {
  if (!isModelName(name)) throw new Error(`Unknown model '${String(name)}'; choose one of ${MODEL_NAMES.join(', ')}`);
  return MODEL_FACTORIES[name](options);
}
