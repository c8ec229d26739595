// Bad command lines end with one clear line on stderr and exit code 2, before anything trains.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'trainhooks-args-'));
const brokenJson = join(dir, 'broken.json');
writeFileSync(brokenJson, '{ "freeze": { "warmupSteps": 10, }');
const unknownPluginOptions = join(dir, 'unknown-plugin.json');
writeFileSync(unknownPluginOptions, JSON.stringify({ frezee: {} }));
const badOptionValue = join(dir, 'bad-value.json');
writeFileSync(badOptionValue, JSON.stringify({ freeze: { driftThreshold: 10 } }));
const badPipelineStages = join(dir, 'bad-stages.json');
writeFileSync(badPipelineStages, JSON.stringify({ pipeline: { stages: 0 } }));

const CASES: Array<[string, string[], RegExp]> = [
  ['an unknown plugin', ['train', '--plugins', 'freeze,turbo'], /unknown plugin 'turbo'; choose from freeze, act-cache, grad-prune, pipeline, mpi/],
  ['non-numeric epochs', ['train', '--epochs', 'ten'], /--epochs must be a positive whole number, got 'ten'/],
  ['zero epochs', ['ablate', '--plugins', 'freeze', '--epochs', '0'], /--epochs must be a positive whole number/],
  ['a fractional evaluation count', ['train', '--evals-per-epoch', '1.5'], /--evals-per-epoch must be a positive whole number, got '1.5'/],
  ['a missing data directory', ['train', '--data', join(dir, 'no-such-dir')], /--data: no directory '.*no-such-dir'/],
  ['a data directory without IDX files', ['train', '--data', dir], /lacks train-images-idx3-ubyte/],
  ['an unknown model', ['train', '--model', 'vgg19'], /unknown model 'vgg19'; choose cnn, mlp, resnet or give the path of a tfjs-layers model.json/],
  ['a missing model.json', ['train', '--model', join(dir, 'model.json')], /--model: .*model.json does not exist/],
  ['an unreadable plugin options file', ['train', '--plugin-options', join(dir, 'missing.json')], /--plugin-options: cannot read .*missing.json/],
  ['plugin options that are not JSON', ['train', '--plugin-options', brokenJson], /--plugin-options: cannot read .*broken.json/],
  ['plugin options for an unknown plugin', ['train', '--plugin-options', unknownPluginOptions], /names unknown plugin 'frezee'/],
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
