// Two ranks under mpirun on this machine, against single-process training on the full batch.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@trainhooks/backend';
import { createTrainer, unitsFromLayersModel } from '@trainhooks/core-hooks';
import { createModel } from '@trainhooks/cli';
import { namesSignature, planBuckets, resolveMpiOptions, shardRange } from '@trainhooks/plugin-mpi/internal';
import { hasMpirun, mpirun, ROOT } from './fixtures/mpirun.js';
import { makeModel, makeOptimizer, RESUME_AT, STEPS, trainingData, type Scenario } from './fixtures/scenario.js';

const RANK_SCRIPT = fileURLToPath(new URL('./fixtures/train-rank.ts', import.meta.url));

interface RankRecord {
  rank: number;
  reportedSteps: number;
  size: number;
  bytes: number[];
  skipped: string[][];
  frozen: Array<[number, number]>;
  /** Per trainer.save: [this rank wrote, the save succeeded]. */
  saves: Array<[boolean, boolean]>;
}

interface Job {
  code: number | null;
  output: string;
  ms: number;
  ranks: Array<RankRecord & { weights: Float32Array }>;
}

async function runJob(scenario: Scenario, ranks = 2, timeoutMs = 120_000, extra: string[] = []): Promise<Job> {
  const out = mkdtempSync(join(tmpdir(), `trainhooks-mpi-${scenario}-`));
  const began = Date.now();
  const { code, stdout, stderr } = await mpirun(ranks, [RANK_SCRIPT, scenario, out, ...extra], timeoutMs);
  const records = Array.from({ length: ranks }, (_, rank) => join(out, `rank-${rank}`)).filter((base) => existsSync(`${base}.json`));
  return {
    code,
    output: stdout + stderr,
    ms: Date.now() - began,
    ranks: records.map((base) => ({ ...(JSON.parse(readFileSync(`${base}.json`, 'utf8')) as RankRecord), weights: new Float32Array(readFileSync(`${base}.bin`).buffer.slice(0)) })),
  };
}

/** The same 20 steps in this process on the full batches: what data parallelism must reproduce. */
async function referenceWeights(scenario: Scenario): Promise<Float32Array> {
  const model = makeModel(scenario);
  const trainer = createTrainer(model, { optimizer: makeOptimizer(scenario), loss: 'categoricalCrossentropy' });
  const batches = trainingData();
  for (let step = 0; step < STEPS; step++) {
    if (scenario === 'frozen-prefix' && step === 10) trainer.frozenPrefix = 2;
    await trainer.step(batches[step % batches.length]!);
  }
  const weights = model.getWeights().map((weight) => weight.dataSync() as Float32Array);
  const flat = new Float32Array(weights.reduce((sum, w) => sum + w.length, 0));
  weights.reduce((offset, w) => (flat.set(w, offset), offset + w.length), 0);
  await trainer.dispose();
  tf.dispose(batches.flatMap((batch) => [batch.x, batch.y]));
  return flat;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('the pieces, without MPI', () => {
  it('buckets follow variable order, never split a variable, stay under bucketBytes unless one variable is larger', () => {
    const buckets = planBuckets([{ name: 'a', size: 10 }, { name: 'b', size: 10 }, { name: 'c', size: 100 }, { name: 'd', size: 1 }], 80);
    expect(buckets.map((bucket) => bucket.entries.map((entry) => `${entry.name}@${entry.offset}`))).toEqual([['a@0', 'b@10'], ['c@0'], ['d@0']]);
    expect(buckets.map((bucket) => bucket.size)).toEqual([20, 100, 1]);
  });

  it('shards are contiguous, cover the batch, and differ in size by at most one', () => {
    for (const [batch, size] of [[32, 2], [33, 2], [10, 3], [5, 5]] as const) {
      const shards = Array.from({ length: size }, (_, rank) => shardRange(batch, rank, size));
      expect(shards[0]!.from).toBe(0);
      expect(shards.at(-1)!.to).toBe(batch);
      shards.forEach((shard, rank) => rank > 0 && expect(shard.from).toBe(shards[rank - 1]!.to));
      const sizes = shards.map((shard) => shard.to - shard.from);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('the gradient-set signature depends on names and order; options are checked', () => {
    expect(namesSignature(['a', 'b'])).not.toBe(namesSignature(['b', 'a']));
    expect(namesSignature(['ab'])).not.toBe(namesSignature(['a', 'b']));
    expect(() => resolveMpiOptions({ bucketBytes: 0 })).toThrow(/option bucketBytes must be an integer ≥ 4, got 0/);
    expect(() => resolveMpiOptions({ bucketSize: 1 } as never)).toThrow(/option bucketSize must be one of/);
  });

  it('without Open MPI, creating the plugin fails with what to install', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/no-mpi.ts', import.meta.url))], {
      cwd: ROOT,
      env: { ...process.env, TRAINHOOKS_LIBMPI: '/nonexistent/libmpi.so' },
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/plugin-mpi: Open MPI is not available .*apt-get install openmpi-bin libopenmpi-dev/);
  });
});

describe.runIf(hasMpirun)('2 ranks under mpirun', () => {
  beforeAll(async () => {
    await setupBackend('wasm', { threads: 1, log: () => {} });
  });

  for (const scenario of ['sgd', 'adam'] as const) {
    it(`${scenario}: after 20 steps both ranks hold the weights of single-process training on the full batch (1e-4)`, async () => {
      const job = await runJob(scenario);
      expect(job.code, job.output).toBe(0);
      expect(job.ranks.map((rank) => [rank.rank, rank.size, rank.reportedSteps])).toEqual([[0, 2, STEPS], [1, 2, STEPS]]);
      const expected = await referenceWeights(scenario);
      for (const rank of job.ranks) expect(maxDiff(rank.weights, expected)).toBeLessThan(1e-4);
      expect(maxDiff(job.ranks[0]!.weights, job.ranks[1]!.weights)).toBe(0);
    });
  }

  it('BatchNorm statistics are averaged over the ranks: at lr 0 the moving means equal full-batch training’s', async () => {
    const job = await runJob('batchnorm');
    expect(job.code, job.output).toBe(0);
    const expected = await referenceWeights('batchnorm');
    const model = makeModel('batchnorm');
    const region = (suffix: string) => {
      let offset = 0;
      for (const weight of model.weights) {
        const size = weight.read().size;
        if (weight.originalName.endsWith(suffix)) return { from: offset, to: offset + size };
        offset += size;
      }
      throw new Error(`no weight ${suffix}`);
    };
    const mean = region('moving_mean');
    const variance = region('moving_variance');
    const [zero, one] = job.ranks;
    expect(maxDiff(zero!.weights, one!.weights)).toBe(0);
    // The mean of equal shards' means is the batch's mean, and the moving mean is linear in it.
    expect(maxDiff(zero!.weights.slice(mean.from, mean.to), expected.slice(mean.from, mean.to))).toBeLessThan(1e-5);
    expect(Math.max(...zero!.weights.slice(mean.from, mean.to).map(Math.abs))).toBeGreaterThan(1e-3);
    // Shards' variances leave out the spread between shard means: never above the full batch's.
    for (let i = variance.from; i < variance.to; i++) expect(zero!.weights[i]!).toBeLessThanOrEqual(expected[i]! + 1e-6);
    model.dispose();
  });

  it('with a frozen prefix the bytes all-reduced fall by exactly the frozen variables’ share', async () => {
    const job = await runJob('frozen-prefix');
    expect(job.code, job.output).toBe(0);
    const units = unitsFromLayersModel(createModel('mlp', { seed: 3 }));
    const bytesOf = (from: number, to: number) => units.slice(from, to).flatMap((unit) => unit.variables).reduce((sum, v) => sum + v.size * 4, 0);
    for (const rank of job.ranks) {
      expect(rank.bytes.slice(0, 10)).toEqual(Array(10).fill(bytesOf(0, units.length)));
      expect(rank.bytes.slice(10)).toEqual(Array(10).fill(bytesOf(0, units.length) - bytesOf(0, 2)));
    }
    expect(maxDiff(job.ranks[0]!.weights, await referenceWeights('frozen-prefix'))).toBeLessThan(1e-4);
  });

  it('with grad-prune both ranks skip identical groups, step by step', async () => {
    const job = await runJob('prune');
    expect(job.code, job.output).toBe(0);
    const [zero, one] = job.ranks;
    expect(zero!.skipped).toEqual(one!.skipped);
    expect(zero!.skipped.some((names) => names.length > 0)).toBe(true);
    expect(zero!.bytes).toEqual(one!.bytes);
  });

  it('checkpoint: rank 0 writes, both ranks restore in new processes and continue bit-identically (Adam + grad-prune)', async () => {
    const checkpoint = join(mkdtempSync(join(tmpdir(), 'trainhooks-mpi-checkpoint-')), 'run');
    // One job at a time: four ranks at once on a 2-core machine beside the other tests would only crowd each other.
    const straight = await runJob('resume-straight');
    const first = await runJob('resume-first', 2, 120_000, [checkpoint]);
    expect(straight.code, straight.output).toBe(0);
    expect(first.code, first.output).toBe(0);
    expect(first.ranks.map((rank) => rank.saves)).toEqual([[[true, true]], [[false, true]]]);
    const rest = await runJob('resume-rest', 2, 120_000, [checkpoint]);
    expect(rest.code, rest.output).toBe(0);
    for (const rank of [0, 1]) {
      expect(Buffer.from(rest.ranks[rank]!.weights.buffer).equals(Buffer.from(straight.ranks[rank]!.weights.buffer))).toBe(true);
      // The same pruning decisions after the restore as in the straight run.
      expect(rest.ranks[rank]!.skipped).toEqual(straight.ranks[rank]!.skipped.slice(RESUME_AT));
    }
    expect(straight.ranks[0]!.skipped.slice(RESUME_AT).some((names) => names.length > 0)).toBe(true);
  }, 360_000);

  it('with plugin-freeze both ranks freeze at the same step (rank 0 decides)', async () => {
    const job = await runJob('freeze');
    expect(job.code, job.output).toBe(0);
    const [zero, one] = job.ranks;
    expect(zero!.frozen.length).toBeGreaterThan(0);
    expect(one!.frozen).toEqual(zero!.frozen);
    expect(maxDiff(zero!.weights, one!.weights)).toBe(0);
  });

  it('ranks that disagree on the gradients to send fail loudly, naming the rank and the step', async () => {
    const job = await runJob('disagree', 2, 90_000);
    expect(job.code).not.toBe(0);
    expect(job.output).toMatch(/plugin-mpi: rank [01]: the ranks disagree on which gradients to all-reduce at step 3/);
    expect(job.ranks).toHaveLength(0);
  });

  it('ranks that shuffle without a shared seed are told to share one, not silently trained on other batches', async () => {
    const job = await runJob('unseeded-shuffle', 2, 90_000);
    expect(job.code).not.toBe(0);
    expect(job.output).toMatch(/plugin-mpi: rank 1: step 0 has another batch than rank 0's .*same shuffleSeed/);
  });

  it('a rank that stops answering makes the others fail after timeoutMs, naming the waiting rank', async () => {
    const job = await runJob('hung', 2, 90_000);
    expect(job.code).not.toBe(0);
    expect(job.ms).toBeLessThan(45_000);
    expect(job.output).toMatch(/plugin-mpi: rank 0 of 2: .* did not complete within 3000 ms/);
  });

  it('a killed rank ends the job with an error naming it, no hang', async () => {
    const job = await runJob('killed', 2, 90_000);
    expect(job.code).not.toBe(0);
    expect(job.ms).toBeLessThan(60_000);
    expect(job.output).toMatch(/process rank 1 .*signal 9/);
    expect(job.ranks).toHaveLength(0);
  });
});
