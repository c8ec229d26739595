// Loads a tfjs-layers model saved as model.json + weight files from the local disk, without tfjs-node
// (whose file:// handler is the usual way): the files are read here and handed to tf.io.fromMemory.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { concatenateBytes, encodeHalf } from '@trainhooks/core-hooks/internal';

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
  const weightData = concatenateBytes(buffers).buffer as ArrayBuffer;
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs, weightData }));
}

export interface SaveModelFilesOptions {
  /** 'float16' halves the files (tfjs decodes it on load: manifest quantization 'float16'); default 'float32'. */
  readonly weightDtype?: 'float32' | 'float16';
}

/**
 * Writes `model.json` and `weights.bin` into `dir` (created if needed), loadable by loadModelFile here
 * and by tf.loadLayersModel anywhere. Returns the bytes of the weights file.
 */
export async function saveModelFiles(model: tfl.LayersModel, dir: string, options: SaveModelFilesOptions = {}): Promise<number> {
  const float16 = options.weightDtype === 'float16';
  let written = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const source = concatenateBytes(toBuffers(artifacts.weightData));
      const specs: tf.io.WeightsManifestEntry[] = [];
      const parts: Uint8Array[] = [];
      let offset = 0;
      for (const spec of artifacts.weightSpecs ?? []) {
        const count = spec.shape.reduce((product, size) => product * size, 1);
        const bytes = source.slice(offset, offset + count * 4);
        offset += count * 4;
        if (float16 && spec.dtype === 'float32') {
          parts.push(new Uint8Array(encodeHalf(new Float32Array(bytes.buffer)).buffer));
          specs.push({ ...spec, quantization: { dtype: 'float16' } });
        } else {
          parts.push(bytes);
          specs.push(spec);
        }
      }
      const weights = concatenateBytes(parts);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'weights.bin'), weights);
      const modelJson = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
      };
      writeFileSync(join(dir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
      written = weights.byteLength;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
  return written;
}

function toBuffers(data: tf.io.WeightData | undefined): Uint8Array[] {
  if (data === undefined) return [];
  return (Array.isArray(data) ? data : [data]).map((buffer) => new Uint8Array(buffer));
}

/**
 * The input shape a model.json declares (batch axis first, null), read from its topology without
 * loading weights: a Sequential's first layer's batch_input_shape, or a functional model's InputLayer.
 * null when the file declares none.
 */
export function modelFileInputShape(path: string): Array<number | null> | null {
  const json = JSON.parse(readFileSync(path, 'utf8')) as { modelTopology?: { model_config?: TopologyNode; config?: unknown } & TopologyNode };
  const topology = json.modelTopology;
  const root: TopologyNode | undefined = topology?.model_config ?? topology;
  const layers = (root?.config as { layers?: TopologyNode[] } | undefined)?.layers ?? [];
  for (const layer of layers) {
    const shape = (layer.config as { batch_input_shape?: Array<number | null> } | undefined)?.batch_input_shape;
    if (Array.isArray(shape)) return shape;
  }
  return null;
}

interface TopologyNode {
  class_name?: string;
  config?: unknown;
}
