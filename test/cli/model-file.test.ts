// --model PATH/model.json: a model saved by tfjs (model.json + weight files) loads without tfjs-node.
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createModel, loadModelFile } from '@trainhooks/cli';

describe('loadModelFile', () => {
  it('reads model.json and its weights file into the same model', async () => {
    await tf.setBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'trainhooks-model-'));
    const model = createModel('cnn', { seed: 4 });
    // What tfjs-node's file:// handler writes: model.json naming weights.bin, and the weights.
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await loadModelFile(join(dir, 'model.json'));
    expect(loaded.layers.map((layer) => layer.name)).toEqual(model.layers.map((layer) => layer.name));
    const [a, b] = [model.getWeights(), loaded.getWeights()];
    expect(b).toHaveLength(a.length);
    a.forEach((weight, i) => expect(Buffer.from(b[i]!.dataSync<'float32'>().buffer).equals(Buffer.from(weight.dataSync<'float32'>().buffer))).toBe(true));
  });

  it('says what is wrong with a file that is not a model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trainhooks-model-'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ hello: 1 }));
    await expect(loadModelFile(join(dir, 'model.json'))).rejects.toThrow(/not a tfjs-layers model.json/);
  });
});
