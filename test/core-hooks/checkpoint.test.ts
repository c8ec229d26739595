// trainer.save / restoreTrainer: a run stopped mid-epoch, saved, and resumed in a new process ends with
// the weights of the run that was never stopped, bit for bit; the codec, the atomic write and the
// refusals of a checkpoint that does not fit.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, restoreTrainer, type StatefulPlugin, type Trainer } from '@trainhooks/core-hooks';
import { decodeState, encodeState } from '@trainhooks/core-hooks/internal';
import { BATCH_SIZE, createModel, data, EPOCHS, optimizer, SHUFFLE_SEED, useCpu, weightValues, type OptimizerName, type PluginName } from './fixtures/resume-workload.js';
import { newTrainer, SAVE_AT, STEPS_PER_EPOCH, straightAndResumed } from './fixtures/resume-check.js';

const work = mkdtempSync(join(tmpdir(), 'trainhooks-checkpoint-'));

beforeAll(useCpu);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CASES: Array<[OptimizerName, PluginName[]]> = [
  ['adam', []],
  ['momentum', []],
  ['adam', ['freeze']],
  ['momentum', ['grad-prune']],
  ['momentum', ['act-cache']],
  ['adam', ['freeze', 'act-cache']],
  ['momentum', ['freeze', 'act-cache', 'grad-prune']],
  ['adam', ['freeze', 'act-cache', 'grad-prune']],
];

describe('save mid-epoch, restore in a new process, continue: the weights and decisions of the uninterrupted run', () => {
  it.each(CASES)(`a small conv net with BatchNorm and Dropout, %s, plugins [%s], saved at step ${SAVE_AT} of ${EPOCHS * STEPS_PER_EPOCH} (epoch 2, batch 3)`, async (name, pluginNames) => {
    const { straight, resumed, savedAt } = await straightAndResumed('small', name, pluginNames, join(work, `${name}-${pluginNames.join('+') || 'none'}`));
    expect(savedAt).toBe(SAVE_AT);
    expect(resumed.globalStep).toBe(EPOCHS * STEPS_PER_EPOCH);
    // The resumed fit starts in the epoch it stopped in.
    expect(resumed.epochs).toEqual([1, 2]);
    expect(resumed.decisions).toEqual(straight.decisions);
    expect(resumed.weights.length).toBe(straight.weights.length);
    resumed.weights.forEach((values, index) => expect(values, `weight ${index}`).toEqual(straight.weights[index]));
  });

  it.each([
    ['mid-epoch', 6],
    ['after the last batch of a call', 10],
  ])('one fit call per epoch, each with its own seed (as the CLI runs), saved %s: the next calls continue it', async (_, saveAt) => {
    const { x, y } = data();
    const seeds = [11, 12, 13];
    const perEpoch = async (trainer: Trainer, from: number, onBatchEnd?: () => Promise<void>) => {
      for (let epoch = from; epoch < EPOCHS; epoch++) {
        await trainer.fit(x, y, { epochs: epoch + 1, initialEpoch: epoch, batchSize: BATCH_SIZE, shuffleSeed: seeds[epoch], callbacks: onBatchEnd ? { onBatchEnd } : undefined });
        if (trainer.stopTraining) return epoch;
      }
      return EPOCHS;
    };
    const straight = createModel(12);
    await perEpoch(newTrainer(straight, 'momentum'), 0);

    const trainer = newTrainer(createModel(12), 'momentum');
    const dir = join(work, `per-epoch-${saveAt}`);
    let stoppedIn = -1;
    await perEpoch(trainer, 0, async () => {
      if (trainer.globalStep !== saveAt) return;
      await trainer.save(dir);
      stoppedIn = trainer.epoch;
      trainer.stopTraining = true;
    });
    const restoredModel = createModel(13);
    const restored = await restoreTrainer(dir, restoredModel, [], { optimizer: optimizer('momentum'), loss: 'categoricalCrossentropy' });
    // The caller resumes its own loop: in the epoch it stopped in, or at the next one when that had ended.
    const nextEpoch = saveAt % STEPS_PER_EPOCH === 0 ? stoppedIn + 1 : stoppedIn;
    await perEpoch(restored, nextEpoch);
    expect(restored.globalStep).toBe(EPOCHS * STEPS_PER_EPOCH);
    expect(weightValues(restoredModel)).toEqual(weightValues(straight));
    tf.dispose([x, y]);
  });

  it('a checkpoint saved after the last epoch resumes to a fit with nothing left to do', async () => {
    const { x, y } = data();
    const model = createModel(2);
    const trainer = newTrainer(model, 'momentum');
    await trainer.fit(x, y, { epochs: 1, batchSize: BATCH_SIZE, shuffleSeed: SHUFFLE_SEED });
    const dir = join(work, 'after-fit');
    await trainer.save(dir);
    const restored = await restoreTrainer(dir, createModel(3), [], { optimizer: optimizer('momentum'), loss: 'categoricalCrossentropy' });
    expect(weightValues(restored.model as tfl.LayersModel)).toEqual(weightValues(model));
    const history = await restored.fit(x, y, { epochs: 1, batchSize: BATCH_SIZE, shuffleSeed: SHUFFLE_SEED });
    expect(history.epoch).toEqual([]);
    expect(restored.globalStep).toBe(STEPS_PER_EPOCH);
    tf.dispose([x, y]);
  });
});

describe('the checkpoint on disk', () => {
  it('holds weights tf.loadLayersModel reads on its own, and no base64: typed arrays are a binary file', async () => {
    const model = createModel(4);
    const trainer = newTrainer(model, 'adam');
    const { x, y } = data();
    await trainer.fit(x, y, { epochs: 1, batchSize: BATCH_SIZE, shuffleSeed: SHUFFLE_SEED });
    const dir = join(work, 'layout');
    await trainer.save(dir);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'model.json', 'state.bin', 'weights.bin']);
    const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weightData = new Uint8Array(readFileSync(join(dir, 'weights.bin'))).buffer;
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData }));
    expect(weightValues(loaded)).toEqual(weightValues(model));
    const manifest = readFileSync(join(dir, 'checkpoint.json'), 'utf8');
    expect(manifest).toContain('"$typed": "Float32Array"');
    expect(manifest).not.toMatch(/[A-Za-z0-9+/]{200,}={0,2}/);
    tf.dispose([x, y]);
  });

  it('replaces a checkpoint atomically: a save that fails leaves the previous one whole and loadable', async () => {
    const model = createModel(5);
    const dir = join(work, 'atomic');
    const failing: StatefulPlugin = {
      name: 'failing',
      stateKey: 'failing',
      stateVersion: 1,
      apply: () => {},
      exportState: () => (fail ? { bad: new Map() } : { ok: true }),
      importState: () => {},
    };
    let fail = false;
    const trainer = newTrainer(model, 'adam', [failing]);
    const saves: boolean[] = [];
    trainer.hooks.afterSave.tap('test', (_save, succeeded) => void saves.push(succeeded));
    await trainer.save(dir);
    const before = readFileSync(join(dir, 'checkpoint.json'), 'utf8');
    fail = true;
    await expect(trainer.save(dir)).rejects.toThrow(/plugins\.failing\.state\.bad is a Map; a state holds plain data and typed arrays only/);
    expect(saves).toEqual([true, false]);
    expect(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).toBe(before);
    expect(readdirSync(work).filter((name) => name.startsWith('.atomic'))).toEqual([]);
    fail = false;
    await expect(restoreTrainer(dir, createModel(6), [failing], { optimizer: optimizer('adam'), loss: 'categoricalCrossentropy' })).resolves.toBeDefined();
  });

  it('a crash between the two renames leaves the previous checkpoint set aside: the next read puts it back', async () => {
    const model = createModel(7);
    const trainer = newTrainer(model, 'adam');
    const dir = join(work, 'set-aside');
    await trainer.save(dir);
    // What the crash leaves: the old checkpoint renamed aside, the new one still staging (no manifest).
    renameSync(dir, join(work, '.set-aside.previous-999-00000000'));
    mkdirSync(join(work, '.set-aside.saving-999-00000000'));
    writeFileSync(join(work, '.set-aside.saving-999-00000000', 'weights.bin'), new Uint8Array(10));
    const restored = await restoreTrainer(dir, createModel(8), [], { optimizer: optimizer('adam'), loss: 'categoricalCrossentropy' });
    expect(weightValues(restored.model as tfl.LayersModel)).toEqual(weightValues(model));
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(true);
    expect(existsSync(join(work, '.set-aside.previous-999-00000000'))).toBe(false);
  });

  it('a process that does not write (a tap sets write to false) leaves the directory untouched', async () => {
    const trainer = newTrainer(createModel(9), 'adam');
    trainer.hooks.beforeSave.tap('not-rank-0', (save) => void (save.write = false));
    const seen: Array<[string, number, boolean, boolean]> = [];
    trainer.hooks.afterSave.tap('test', (save, succeeded) => void seen.push([save.dir, save.step, save.write, succeeded]));
    const dir = join(work, 'not-written');
    await trainer.save(dir);
    expect(existsSync(dir)).toBe(false);
    expect(seen).toEqual([[dir, 0, false, true]]);
  });
});

describe('a checkpoint that does not fit is refused, naming the difference', () => {
  let dir: string;
  const counting = (): StatefulPlugin<{ steps: number }> => ({ name: 'counting', stateKey: 'counting', stateVersion: 1, apply: () => {}, exportState: () => ({ steps: 3 }), importState: () => {} });

  beforeAll(async () => {
    dir = join(work, 'refusals');
    await newTrainer(createModel(7), 'adam', [counting()]).save(dir);
  });

  const options = { optimizer: optimizer('adam'), loss: 'categoricalCrossentropy' as const };

  it('another model', async () => {
    const other = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [6, 6, 1] }), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
    await expect(restoreTrainer(dir, other, [counting()], options)).rejects.toThrow(/checkpoint is of another model: it holds 10 weights, this model has 2/);
    const wider = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 1], filters: 5, kernelSize: 3 }),
        tfl.layers.batchNormalization(),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 8 }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    await expect(restoreTrainer(dir, wider, [counting()], options)).rejects.toThrow(/weight 0 is .* \[3, 3, 1, 4\] there, .* \[3, 3, 1, 5\] here/);
  });

  it('another plugin set, or another state version', async () => {
    await expect(restoreTrainer(dir, createModel(8), [], options)).rejects.toThrow(/another plugin set: it holds state of counting, which this trainer does not use/);
    const newer: StatefulPlugin = { ...counting(), stateVersion: 2 };
    await expect(restoreTrainer(dir, createModel(8), [newer], options)).rejects.toThrow(/the state of counting has version 1; this counting reads version 2/);
  });

  it('a plugin without the state contract cannot be saved', async () => {
    const trainer = newTrainer(createModel(9), 'adam');
    trainer.use({ name: 'my-plugin', apply: () => {} });
    await expect(trainer.save(join(work, 'never'))).rejects.toThrow(/the plugin my-plugin does not implement the state contract/);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('a damaged file, a truncated one, or not a checkpoint at all', async () => {
    const copy = join(work, 'damaged');
    await newTrainer(createModel(10), 'adam', [counting()]).save(copy);
    const weights = join(copy, 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(weights, bytes);
    await expect(restoreTrainer(copy, createModel(11), [counting()], options)).rejects.toThrow(/damaged: weights\.bin does not match its checksum/);
    writeFileSync(weights, bytes.subarray(0, 20));
    await expect(restoreTrainer(copy, createModel(11), [counting()], options)).rejects.toThrow(/damaged: weights\.bin has 20 bytes, \d+ were written/);
    await expect(restoreTrainer(work, createModel(11), [counting()], options)).rejects.toThrow(/is not a checkpoint: it has no checkpoint\.json/);
  });
});

describe('the state codec', () => {
  it('round-trips plain data, typed arrays and the numbers JSON cannot hold', () => {
    const value = { a: [1, -0, NaN, Infinity, -Infinity], b: { c: new Float32Array([1.5, -2]), d: new Int8Array([-3, 4]), e: null, f: 'x' }, g: [new Uint16Array([7])] };
    const encoded = encodeState(value);
    expect(encoded.sidecars).toHaveLength(3);
    const json = JSON.parse(JSON.stringify(encoded.json));
    const decoded = decodeState({ json, sidecars: encoded.sidecars }) as typeof value;
    expect(Object.is(decoded.a[1], -0)).toBe(true);
    expect(decoded).toEqual(value);
    expect(decoded.b.c).toBeInstanceOf(Float32Array);
  });

  it('refuses a tensor, naming where it is', () => {
    const tensor = tf.scalar(1);
    expect(() => encodeState({ plugins: { mine: [tensor] } }, 'the state')).toThrow(/the state\.plugins\.mine\[0\] is a Tensor/);
    tensor.dispose();
  });
});
