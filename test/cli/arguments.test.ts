// Bad command lines end with one clear line on stderr and exit code 2, before anything trains.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';
import { encodeIdx, gzipDeterministic } from '@trainhooks/cli/internal';

const dir = mkdtempSync(join(tmpdir(), 'trainhooks-args-'));
/** IDX directories with one damaged file each: a truncated gzip, and fewer labels than images. */
function idxDirectory(name: string, damage: (files: Record<string, Uint8Array>) => void): string {
  const data = join(dir, name);
  mkdirSync(data);
  const files: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte.gz': gzipDeterministic(encodeIdx([3, 28, 28], new Uint8Array(3 * 784))),
    'train-labels-idx1-ubyte.gz': gzipDeterministic(encodeIdx([3], Uint8Array.from([1, 2, 3]))),
    't10k-images-idx3-ubyte.gz': gzipDeterministic(encodeIdx([2, 28, 28], new Uint8Array(2 * 784))),
    't10k-labels-idx1-ubyte.gz': gzipDeterministic(encodeIdx([2], Uint8Array.from([4, 5]))),
  };
  damage(files);
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(data, file), bytes);
  return data;
}
const truncatedIdx = idxDirectory('truncated', (files) => (files['t10k-images-idx3-ubyte.gz'] = files['t10k-images-idx3-ubyte.gz']!.subarray(0, 30)));
const fewerLabels = idxDirectory('fewer-labels', (files) => (files['train-labels-idx1-ubyte.gz'] = gzipDeterministic(encodeIdx([2], Uint8Array.from([1, 2])))));
const brokenJson = join(dir, 'broken.json');
writeFileSync(brokenJson, '{ "freeze": { "warmupSteps": 10, }');
const unknownPluginOptions = join(dir, 'unknown-plugin.json');
writeFileSync(unknownPluginOptions, JSON.stringify({ frezee: {} }));
const badOptionValue = join(dir, 'bad-value.json');
writeFileSync(badOptionValue, JSON.stringify({ freeze: { driftThreshold: 10 } }));
const badPipelineStages = join(dir, 'bad-stages.json');
writeFileSync(badPipelineStages, JSON.stringify({ pipeline: { stages: 0 } }));
// Models for colour images (3 channels), their topology as tfjs-layers writes it: refused before any weight is read.
const colourSequential = join(dir, 'colour-sequential.json');
writeFileSync(
  colourSequential,
  JSON.stringify({
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'colour', layers: [{ class_name: 'Dense', config: { name: 'dense', units: 10, batch_input_shape: [null, 32, 32, 3] } }] },
    },
    weightsManifest: [],
  }),
);
const colourFunctional = join(dir, 'colour-functional.json');
writeFileSync(
  colourFunctional,
  JSON.stringify({
    modelTopology: {
      class_name: 'Model',
      config: {
        name: 'colour',
        layers: [
          { class_name: 'InputLayer', name: 'input', config: { name: 'input', batch_input_shape: [null, 28, 28, 3], dtype: 'float32' }, inbound_nodes: [] },
          { class_name: 'Dense', name: 'dense', config: { name: 'dense', units: 10 }, inbound_nodes: [[['input', 0, 0, {}]]] },
        ],
        input_layers: [['input', 0, 0]],
        output_layers: [['dense', 0, 0]],
      },
    },
    weightsManifest: [],
  }),
);

const CASES: Array<[string, string[], RegExp]> = [
  ['an unknown plugin', ['train', '--plugins', 'freeze,turbo'], /unknown plugin 'turbo'; choose from head-only, freeze, act-cache, grad-prune, pipeline, mpi, or name a module of your own by its path \(\.\/my-plugin\.js\)$/m],
  ['a plugin module that is not there', ['train', '--plugins', './no-such-plugin.js'], /unknown plugin '\.\/no-such-plugin\.js'.*: no module at \/.*no-such-plugin\.js$/m],
  ['non-numeric epochs', ['train', '--epochs', 'ten'], /--epochs must be a positive whole number, got 'ten'/],
  ['zero epochs', ['ablate', '--plugins', 'freeze', '--epochs', '0'], /--epochs must be a positive whole number/],
  ['a fractional evaluation count', ['train', '--evals-per-epoch', '1.5'], /--evals-per-epoch must be a positive whole number, got '1.5'/],
  ['a missing data directory', ['train', '--data', join(dir, 'no-such-dir')], /--data: no directory '.*no-such-dir'/],
  ['a data directory without IDX files', ['train', '--data', dir], /lacks train-images-idx3-ubyte/],
  ['an unknown model', ['train', '--model', 'vgg19'], /unknown model 'vgg19'; choose cnn, mlp, resnet, pretrained:cnn, pretrained:mlp, pretrained:resnet or give the path of a tfjs-layers model.json/],
  ['an unknown pretrained model', ['train', '--model', 'pretrained:vgg'], /unknown pretrained model 'pretrained:vgg'; choose pretrained:cnn, pretrained:mlp, pretrained:resnet$/m],
  ['a pretrained model of no name', ['train', '--model', 'pretrained:'], /unknown pretrained model 'pretrained:'/],
  [
    'a model for 32×32 colour images on the digits',
    ['train', '--model', colourSequential, '--data', 'digits'],
    /--model .*colour-sequential.json takes inputs of shape \[32, 32, 3\], but --data digits has 28×28×1 images \(a model must take \[784\] or \[28, 28, 1\]\)/,
  ],
  ['a functional model for colour images', ['train', '--model', colourFunctional], /--model .*colour-functional.json takes inputs of shape \[28, 28, 3\], but --data subset has 28×28×1 images/],
  ['a truncated IDX file', ['train', '--data', truncatedIdx], /--data .*truncated: .*t10k-images-idx3-ubyte\.gz: starts like gzip \(1f 8b\) but could not be decompressed/],
  ['IDX files whose counts differ', ['train', '--data', fewerLabels], /--data .*fewer-labels: .*3 images but 2 labels in the train split/],
  ['a missing model.json', ['train', '--model', join(dir, 'model.json')], /--model: .*model.json does not exist/],
  ['an unreadable plugin options file', ['train', '--plugin-options', join(dir, 'missing.json')], /--plugin-options: cannot read .*missing.json/],
  ['plugin options that are not JSON', ['train', '--plugin-options', brokenJson], /--plugin-options: cannot read .*broken.json/],
  ['plugin options for an unknown plugin', ['train', '--plugin-options', unknownPluginOptions], /unknown-plugin\.json: unknown plugin 'frezee'/],
  ['a plugin option its plugin rejects', ['train', '--plugins', 'freeze', '--plugin-options', badOptionValue], /plugin 'freeze': .*driftThreshold/],
  ['a pipeline of no stages', ['train', '--plugins', 'pipeline', '--plugin-options', badPipelineStages], /plugin 'pipeline': plugin-pipeline: option stages must be an integer ≥ 1, got 0/],
  ['an unknown optimizer', ['train', '--optimizer', 'lion'], /unknown optimizer 'lion'/],
  ['a malformed schedule', ['train', '--lr-schedule', 'cosine'], /--lr-schedule must be step:EPOCHS:FACTOR/],
  ['a matrix naming an unknown plugin', ['ablate', '--matrix', 'freeze;freeze+warp'], /unknown plugin 'warp'/],
  ['a matrix kind without plugins', ['ablate', '--matrix', 'all'], /--matrix all needs --plugins/],
  ['an ablation with mpi', ['ablate', '--plugins', 'freeze,mpi'], /plugin 'mpi' trains one configuration per MPI job: run mpirun -np N trainhooks train --plugins mpi/],
  ['an unknown option', ['train', '--epoch', '3'], /unknown option '--epoch'/],
  ['an unknown command', ['fit'], /unknown command 'fit'/],
];

describe('trainhooks: bad arguments', () => {
  it.concurrent.each(CASES)('%s → exit 2 with a clear message', async (_, args, message) => {
    const run = await runCli(args);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });
});
