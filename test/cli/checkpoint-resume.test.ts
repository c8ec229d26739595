// `trainhooks train --checkpoint-every / --resume`: a run killed with SIGKILL at a random step, resumed
// from its last checkpoint, and a run stopped by SIGTERM (which saves at the next step and exits 143),
// both end with the weights of the run that was never stopped, and their reports cover the whole run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '@trainhooks/core-hooks/internal';
import { ROOT, runCli, type CliRun } from './cli-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'trainhooks-cli-checkpoint-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** mlp with Dropout-free dense layers on 384 samples, 3 epochs of 12 steps, wasm on one thread: deterministic, and ~4× quicker than cpu. */
const RUN = ['train', '--model', 'mlp', '--data', 'subset', '--train-limit', '384', '--test-limit', '128', '--batch-size', '32', '--epochs', '3', '--backend', 'wasm', '--threads', '1', '--plugins', 'grad-prune', '--json-lines'];
const STEPS = 36;

interface Report {
  runs: Array<{ points: Array<{ epoch: number; testAccuracy: number }>; work: { steps: number } }>;
}

const weights = (dir: string) => readFileSync(join(dir, 'checkpoint', 'weights.bin'));
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
const accuracies = (dir: string) => report(dir).runs[0]!.points.map((point) => [point.epoch, point.testAccuracy]);

/** Runs the CLI in its own process group, so a SIGKILL reaches the run's child process too. */
function runUntilStep(args: string[], step: number, signal: NodeJS.Signals): Promise<CliRun> {
  const bin = resolve(ROOT, 'packages/cli/src/bin.ts');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // json-lines progress: {"type":"step","epoch":E,"step":S,"steps":N,…} at most every 100 ms, and at each epoch's end.
      for (const match of chunk.matchAll(/"type":"step","epoch":(\d+),"step":(\d+),"steps":(\d+)/g)) {
        const global = (Number(match[1]) - 1) * Number(match[3]) + Number(match[2]);
        if (!sent && global >= step) {
          sent = true;
          if (signal === 'SIGKILL') process.kill(-child.pid!, 'SIGKILL');
          else child.kill(signal);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, closeSignal) => resolvePromise({ code, signal: closeSignal, stdout, stderr }));
  });
}

let straight: string;

beforeAll(async () => {
  straight = join(work, 'straight');
  const run = await runCli([...RUN, '--checkpoint-every', '5', '--out', straight]);
  expect(run.code, run.stderr).toBe(0);
}, 180_000);

describe('trainhooks train with checkpoints', () => {
  it('killed with SIGKILL at a random step, resumed from its last checkpoint: the weights of the uninterrupted run, and its whole report', async () => {
    const out = join(work, 'killed');
    const killAt = 6 + Math.floor(new SeededRandom(Date.now() % 2 ** 31).next() * (STEPS - 12));
    const killed = await runUntilStep([...RUN, '--checkpoint-every', '5', '--out', out], killAt, 'SIGKILL');
    expect(killed.signal, `killed at step ${killAt}`).toBe('SIGKILL');
    const resumed = await runCli([...RUN, '--checkpoint-every', '5', '--out', out, '--resume', join(out, 'checkpoint')]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resumed from .* at step \d+/);
    expect(weights(out).equals(weights(straight)), `killed at step ${killAt}`).toBe(true);
    expect(accuracies(out)).toEqual(accuracies(straight));
    expect(report(out).runs[0]!.work.steps).toBe(STEPS);
  }, 180_000);

  it('SIGTERM saves a checkpoint at the next step and exits 143 naming it; --resume then finishes the run exactly', async () => {
    const out = join(work, 'terminated');
    const stopped = await runUntilStep([...RUN, '--checkpoint-dir', join(out, 'checkpoint'), '--out', out], 17, 'SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(stopped.stderr).toContain(`checkpoint: ${join(out, 'checkpoint')} (continue with --resume ${join(out, 'checkpoint')})`);
    const resumed = await runCli([...RUN, '--out', out, '--resume', join(out, 'checkpoint')]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(weights(out).equals(weights(straight))).toBe(true);
    expect(accuracies(out)).toEqual(accuracies(straight));
  }, 180_000);

  it('--resume of a directory that holds no checkpoint is a usage error', async () => {
    const run = await runCli([...RUN, '--out', join(work, 'none'), '--resume', work]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not a checkpoint (no checkpoint.json there)');
  }, 60_000);
});
