// The backbones shipped with the CLI, pretrained on all 60k Fashion-MNIST training images by
// `npm run pretrain` (scripts/pretrain.ts) with the recipes below, stored as tfjs-layers model.json +
// float16 weights.bin under packages/cli/data/pretrained/<name>/, with training.json saying how they were made.
import { join } from 'node:path';
import { findPackageData } from '../data/package-data.js';
import type { ModelName } from './index.js';

export const PRETRAINED_PREFIX = 'pretrained:';

/** How each backbone was pretrained: what `npm run pretrain` runs and training.json records. */
export interface PretrainRecipe {
  readonly optimizer: 'adam' | 'momentum';
  readonly learningRate: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
}

export const PRETRAIN_RECIPES: Readonly<Record<ModelName, PretrainRecipe>> = {
  cnn: { optimizer: 'adam', learningRate: 0.001, epochs: 3, batchSize: 128, seed: 1 },
  mlp: { optimizer: 'adam', learningRate: 0.001, epochs: 3, batchSize: 128, seed: 1 },
  resnet: { optimizer: 'momentum', learningRate: 0.05, epochs: 3, batchSize: 128, seed: 1 },
};

/** What training.json beside each model.json holds. */
export interface PretrainRecord extends PretrainRecipe {
  readonly model: ModelName;
  readonly data: string;
  readonly trainSamples: number;
  /** Accuracy on the 10k Fashion-MNIST test images, with the float16 weights as shipped. */
  readonly testAccuracy: number;
  readonly seconds: number;
  readonly backend: string;
  readonly weightDtype: 'float16';
  readonly weightBytes: number;
}

/** packages/cli/data/pretrained: one folder per backbone. */
export const PRETRAINED_DIR = findPackageData('data/pretrained');

/** 'pretrained:cnn' → 'cnn'; null for anything else. */
export function pretrainedName(model: string): ModelName | null {
  if (!model.startsWith(PRETRAINED_PREFIX)) return null;
  const name = model.slice(PRETRAINED_PREFIX.length);
  return name in PRETRAIN_RECIPES ? (name as ModelName) : null;
}

export function pretrainedModelPath(name: ModelName): string {
  return join(PRETRAINED_DIR, name, 'model.json');
}
