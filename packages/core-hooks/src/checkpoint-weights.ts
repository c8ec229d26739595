// A checkpoint's weights. A tfjs-layers model is written as its own artifacts (model.json +
// weights.bin, which `tf.loadLayersModel` reads on its own); a model of raw variables as plain arrays
// in the trainer's state. Both are read back by position, each checked against the model's shapes, so a
// checkpoint of another model is refused with the first difference named.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { concatenateBytes } from './concatenate-bytes.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

interface ModelJson {
  readonly modelTopology: unknown;
  readonly format: 'layers-model';
  readonly generatedBy: string;
  readonly weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

/** model.json and weights.bin of a tfjs-layers model, as `model.save` would write them. */
export async function layersModelFiles(model: tfl.LayersModel): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: 'trainhooks checkpoint',
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      files.set(MODEL_FILE, new TextEncoder().encode(JSON.stringify(json)));
      const weightData = artifacts.weightData ?? [];
      files.set(WEIGHTS_FILE, concatenateBytes((Array.isArray(weightData) ? weightData : [weightData]).map((buffer) => new Uint8Array(buffer))));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files;
}

const describeShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Checks names-by-position and shapes, then assigns; nothing is assigned unless everything matches. */
function assignInOrder(targets: readonly tf.Variable[], sources: ReadonlyArray<{ name: string; tensor: tf.Tensor }>, what: 'weight' | 'variable'): void {
  if (targets.length !== sources.length) {
    throw new Error(`trainhooks: the checkpoint is of another model: it holds ${sources.length} ${what}s, this model has ${targets.length}`);
  }
  targets.forEach((variable, index) => {
    const source = sources[index]!;
    if (!tf.util.arraysEqual(variable.shape, source.tensor.shape)) {
      throw new Error(
        `trainhooks: the checkpoint is of another model: ${what} ${index} is ${source.name} ${describeShape(source.tensor.shape)} there, ${variable.name} ${describeShape(variable.shape)} here`,
      );
    }
  });
  targets.forEach((variable, index) => variable.assign(sources[index]!.tensor));
}

/** Loads a checkpoint's model.json + weights.bin into `model` (the same architecture). */
export function loadLayersModelFiles(model: tfl.LayersModel, files: ReadonlyMap<string, Uint8Array>): void {
  const json = files.get(MODEL_FILE);
  const weights = files.get(WEIGHTS_FILE);
  if (!json || !weights) throw new Error(`trainhooks: the checkpoint has no ${MODEL_FILE} and ${WEIGHTS_FILE}: it was saved from a model of raw variables`);
  const manifest = JSON.parse(new TextDecoder().decode(json)) as ModelJson;
  const specs = manifest.weightsManifest.flatMap((group) => group.weights);
  const buffer = weights.slice().buffer;
  const named = tf.io.decodeWeights(buffer, specs);
  const sources = specs.map((spec) => ({ name: spec.name, tensor: named[spec.name]! }));
  try {
    assignInOrder(model.weights.map((weight) => weight.read() as tf.Variable), sources, 'weight');
  } finally {
    tf.dispose(Object.values(named));
  }
}

/** A model of raw variables: each variable's values, for the trainer's state. */
export async function variableValues(variables: readonly tf.Variable[]): Promise<Array<{ name: string; shape: number[]; values: Float32Array | Int32Array }>> {
  return Promise.all(
    variables.map(async (variable) => ({ name: variable.name, shape: [...variable.shape], values: (await variable.data()) as Float32Array | Int32Array })),
  );
}

export function loadVariableValues(variables: readonly tf.Variable[], saved: ReadonlyArray<{ name: string; shape: number[]; values: Float32Array | Int32Array }>): void {
  const sources = saved.map((entry) => ({ name: entry.name, tensor: tf.tensor(entry.values, entry.shape) }));
  try {
    assignInOrder(variables, sources, 'variable');
  } finally {
    tf.dispose(sources.map((source) => source.tensor));
  }
}
