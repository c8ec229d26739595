// The model and data of a run: built-in models by name, a shipped pretrained backbone or a model.json
// (with a fresh head for fine-tuning), Fashion-MNIST from one of three places or the real MNIST digits,
// tensors in the layout the model expects. A probe set is held out of training in every
// configuration alike (the freeze plugin judges plasticity on it), so all configurations train on the same samples.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { replaceHead } from '@trainhooks/core-hooks';
import { loadDigits } from '../data/digits.js';
import { FASHION_MNIST_NUM_CLASSES, loadFashionMnist, type FashionMnistSet, type FashionMnistSource, type FashionMnistSplit } from '../data/fashion-mnist.js';
import { toTensors } from '../data/tensors.js';
import { createModel, isModelName, pretrainedModelPath, pretrainedName } from '../models/index.js';
import { loadModelFile } from './model-file.js';
import type { RunSpec } from './run-spec.js';

export const PROBE_SAMPLES = 64;

export interface Workload {
  readonly model: tfl.LayersModel;
  readonly train: { readonly xs: tf.Tensor; readonly ys: tf.Tensor; readonly ids: Int32Array };
  readonly test: { readonly xs: tf.Tensor; readonly ys: tf.Tensor };
  /** Held-out training samples, never trained on. */
  readonly probe: tf.Tensor;
  /** Their labels (one-hot). */
  readonly probeLabels: tf.Tensor;
  /** Where the data came from, for the report. */
  readonly dataSource: string;
  dispose(): void;
}

export function dataSource(data: string): FashionMnistSource {
  if (data === 'subset') return {};
  if (data === 'fashion-mnist') return { full: true };
  return { dataDir: data };
}

/** One split of the run's data: the digits, or Fashion-MNIST from where `data` says. */
export function loadDataSplit(data: string, split: FashionMnistSplit, limit: number | null): FashionMnistSet {
  const limited = limit !== null ? { limit } : {};
  return data === 'digits' ? loadDigits({ split, ...limited }) : loadFashionMnist({ ...dataSource(data), split, ...limited });
}

/** The run's model: built by name, read from the shipped backbones or a model.json, its head replaced if asked. */
export async function loadRunModel(spec: Pick<RunSpec, 'model' | 'newHead' | 'seed'>): Promise<tfl.LayersModel> {
  const pretrained = pretrainedName(spec.model);
  if (pretrained === null && isModelName(spec.model)) return createModel(spec.model, { seed: spec.seed });
  const loaded = await loadModelFile(pretrained !== null ? pretrainedModelPath(pretrained) : spec.model);
  if (!replacesHead(spec)) return loaded;
  // Both data sets have ten classes; the head is fresh (seeded), the backbone's weights are the file's.
  return replaceHead(loaded, FASHION_MNIST_NUM_CLASSES, { seed: spec.seed });
}

/**
 * What the trainer is told of pretrained units: 'all' for a model read from a file that keeps its own
 * head; nothing otherwise (a new head is marked by replaceHead; a model built by name is from scratch).
 */
export function pretrainedUnitsOption(spec: Pick<RunSpec, 'model' | 'newHead'>): { pretrainedUnits?: 'all' } {
  const fromFile = pretrainedName(spec.model) !== null || !isModelName(spec.model);
  return fromFile && !replacesHead(spec) ? { pretrainedUnits: 'all' } : {};
}

/** A model read from a file gets a new head when --new-head says so, and by default for a shipped backbone. */
function replacesHead(spec: Pick<RunSpec, 'model' | 'newHead'>): boolean {
  return spec.newHead ?? pretrainedName(spec.model) !== null;
}

export async function loadWorkload(spec: RunSpec): Promise<Workload> {
  const model = await loadRunModel(spec);
  const flatten = inputRank(model) === 2;
  const trainSet = loadDataSplit(spec.data, 'train', spec.trainLimit !== null ? spec.trainLimit + PROBE_SAMPLES : null);
  const testSet = loadDataSplit(spec.data, 'test', spec.testLimit);
  if (trainSet.count <= PROBE_SAMPLES) throw new Error(`${trainSet.source} has only ${trainSet.count} training samples`);
  const all = toTensors(trainSet, { flatten });
  const test = toTensors(testSet, { flatten });
  // The last PROBE_SAMPLES rows are the probe; ids stay the rows' indices in the file.
  const drawable = trainSet.count - PROBE_SAMPLES;
  const train = { xs: tf.slice(all.xs, 0, drawable), ys: tf.slice(all.ys, 0, drawable), ids: all.ids.slice(0, drawable) };
  const probe = tf.slice(all.xs, drawable, PROBE_SAMPLES);
  const probeLabels = tf.slice(all.ys, drawable, PROBE_SAMPLES);
  tf.dispose([all.xs, all.ys]);
  return {
    model,
    train,
    test,
    probe,
    probeLabels,
    dataSource: trainSet.source,
    dispose: () => tf.dispose([train.xs, train.ys, test.xs, test.ys, probe, probeLabels]),
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
