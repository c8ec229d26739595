// The model and data of a run: built-in models by name or a model.json, Fashion-MNIST from one of
// three places, tensors in the layout the model expects. A probe set is held out of training in every
// configuration alike (the freeze plugin judges plasticity on it), so all configurations train on the same samples.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadFashionMnist, type FashionMnistSource } from '../data/fashion-mnist.js';
import { toTensors } from '../data/tensors.js';
import { createModel, isModelName } from '../models/index.js';
import { loadModelFile } from './model-file.js';
import type { RunSpec } from './run-spec.js';

export const PROBE_SAMPLES = 64;

export interface Workload {
  readonly model: tfl.LayersModel;
  readonly train: { readonly xs: tf.Tensor; readonly ys: tf.Tensor; readonly ids: Int32Array };
  readonly test: { readonly xs: tf.Tensor; readonly ys: tf.Tensor };
  /** Held-out training samples, never trained on. */
  readonly probe: tf.Tensor;
  /** Where the data came from, for the report. */
  readonly dataSource: string;
  dispose(): void;
}

export function dataSource(data: string): FashionMnistSource {
  if (data === 'subset') return {};
  if (data === 'fashion-mnist') return { full: true };
  return { dataDir: data };
}

export async function loadWorkload(spec: RunSpec): Promise<Workload> {
  const model = isModelName(spec.model) ? createModel(spec.model, { seed: spec.seed }) : await loadModelFile(spec.model);
  const flatten = inputRank(model) === 2;
  const source = dataSource(spec.data);
  const trainSet = loadFashionMnist({ ...source, split: 'train', ...(spec.trainLimit !== null ? { limit: spec.trainLimit + PROBE_SAMPLES } : {}) });
  const testSet = loadFashionMnist({ ...source, split: 'test', ...(spec.testLimit !== null ? { limit: spec.testLimit } : {}) });
  if (trainSet.count <= PROBE_SAMPLES) throw new Error(`${trainSet.source} has only ${trainSet.count} training samples`);
  const all = toTensors(trainSet, { flatten });
  const test = toTensors(testSet, { flatten });
  // The last PROBE_SAMPLES rows are the probe; ids stay the rows' indices in the file.
  const drawable = trainSet.count - PROBE_SAMPLES;
  const train = { xs: tf.slice(all.xs, 0, drawable), ys: tf.slice(all.ys, 0, drawable), ids: all.ids.slice(0, drawable) };
  const probe = tf.slice(all.xs, drawable, PROBE_SAMPLES);
  tf.dispose([all.xs, all.ys]);
  return {
    model,
    train,
    test,
    probe,
    dataSource: trainSet.source,
    dispose: () => tf.dispose([train.xs, train.ys, test.xs, test.ys, probe]),
  };
}

/** 2 for models that take flat n×784 rows, 4 for n×28×28×1 images. */
function inputRank(model: tfl.LayersModel): number {
  const shape = model.inputs[0]!.shape;
  if (shape.length !== 2 && shape.length !== 4) {
    throw new Error(`the model's input has shape [${shape.join(', ')}]; Fashion-MNIST feeds n×784 or n×28×28×1`);
  }
  return shape.length;
}
