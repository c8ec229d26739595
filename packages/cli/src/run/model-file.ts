// Loads a tfjs-layers model saved as model.json + weight files from the local disk, without tfjs-node
// (whose file:// handler is the usual way): the files are read here and handed to tf.io.fromMemory.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

export async function loadModelFile(path: string): Promise<tfl.LayersModel> {
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as ModelJson;
  } catch (error) {
    throw new Error(`cannot read the model ${path}: ${(error as Error).message}`);
  }
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw new Error(`${path} is not a tfjs-layers model.json (no modelTopology; save one with model.save())`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const file of group.paths) buffers.push(readFileSync(join(dirname(path), file)));
  }
  const weightData = concatenate(buffers);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs, weightData }));
}

function concatenate(parts: Uint8Array[]): ArrayBuffer {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}
