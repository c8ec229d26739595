// `npm run bench -- mpi`: data parallelism on Open MPI, 2 ranks (one wasm thread each) against the
// single-thread trainer on cnn and mlp at a global batch of 256, in the same run as the other ways of
// using 2 cores on the same models: the pipeline plugin (2 stages, M = 8, gpipe) and threaded wasm (2
// threads) — those two are the pipeline benchmark's own children. Also the gradient bytes each rank
// all-reduces per step with everything trained, with the first two units frozen, and with grad-prune;
// the ceiling of 2 ranks with free communication (two trainers of half the batch at once); and weak
// scaling (2 ranks keeping the single process's batch each) beside its own ceiling. Every figure is a
// process (or an mpirun job) of its own; rounds rotate the order.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@trainhooks/backend';
import { createTrainer } from '@trainhooks/core-hooks';
import { createModel, type ModelName } from '@trainhooks/cli';
import { gradPrunePlugin } from '@trainhooks/plugin-grad-prune';
import { mpiPlugin } from '@trainhooks/plugin-mpi';
import { benchChildArgs, runJsonChild } from './child-process.js';
import { median, writeResult } from './stats.js';
import { randomBatch } from './step-timing.js';

/** What each rank trains: everything, the first two units frozen, or with gradient pruning. */
const RANK_VARIANTS = ['all trained', 'first 2 units frozen', 'grad-prune'] as const;
type RankVariant = (typeof RANK_VARIANTS)[number];

interface Measurement {
  readonly stepMs: number;
  /** Mean gradient bytes a rank all-reduced per timed step (null outside MPI). */
  readonly bytesPerStep: number | null;
  readonly allreduceMs: number | null;
}

async function measureRank(model: ModelName, variant: RankVariant, batchSize: number, steps: number, warmup: number): Promise<Measurement | null> {
  await setupBackend('wasm', { threads: 1, log: () => {} });
  const mpi = mpiPlugin();
  const trainer = createTrainer(createModel(model, { seed: 1 })).use(mpi);
  // Aggressive on purpose: the point is the bytes a pruned step does not send.
  if (variant === 'grad-prune') trainer.use(gradPrunePlugin({ seed: 1, monitorEvery: 2, minObservations: 2, startAt: 0, fullAt: 0.05 }));
  if (variant === 'first 2 units frozen') trainer.frozenPrefix = 2;
  const { x, y } = randomBatch(model, batchSize);
  const times: number[] = [];
  const bytes: number[] = [];
  const allreduceMs: number[] = [];
  trainer.events.on('allreduce', (event) => {
    bytes.push(event.bytes);
    allreduceMs.push(event.ms);
  });
  // grad-prune prunes only once its monitor has seen a few points: time the steps after that.
  const untimed = variant === 'grad-prune' ? Math.max(warmup, 12) : warmup;
  for (let step = 0; step < untimed + steps; step++) {
    const began = performance.now();
    await trainer.step({ x, y });
    if (step >= untimed) times.push(performance.now() - began);
    else bytes.length = allreduceMs.length = 0;
  }
  const rank = mpi.rank;
  await trainer.dispose();
  tf.dispose([x, y]);
  if (rank !== 0) return null;
  return { stepMs: median(times), bytesPerStep: bytes.reduce((a, b) => a + b, 0) / bytes.length, allreduceMs: median(allreduceMs) };
}

/** The pipeline benchmark's children, whose result also holds stepMs. */
function pipelineChild(model: ModelName, variant: string, common: string[]): Promise<Measurement> {
  return runJsonChild<Measurement>(process.execPath, benchChildArgs('pipeline', [...common, '--micro-batches', '8', '--child-model', model, '--child-variant', variant]));
}

/** Two single-thread trainers started together; the step of the slower one (as a data-parallel step waits for it). */
async function concurrently(model: ModelName, common: string[]): Promise<Measurement> {
  const both = await Promise.all([0, 1].map(() => pipelineChild(model, 'single thread', common)));
  return { stepMs: Math.max(...both.map((result) => result.stepMs)), bytesPerStep: null, allreduceMs: null };
}

function ranksJob(ranks: number, model: ModelName, variant: RankVariant, common: string[]): Promise<Measurement> {
  const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };
  return runJsonChild<Measurement>('mpirun', ['-np', String(ranks), process.execPath, ...benchChildArgs('mpi', [...common, '--child-model', model, '--child-variant', variant])], env);
}

export async function runMpiBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: 'cnn,mlp' },
      'batch-size': { type: 'string', default: '256' },
      steps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      'child-model': { type: 'string' },
      'child-variant': { type: 'string' },
    },
  });
  const batchSize = Number(values['batch-size']);
  /** A child's options at a global batch of `rows`. */
  const at = (rows: number) => ['--batch-size', String(rows), '--steps', values.steps!, '--warmup', values.warmup!];
  const common = at(batchSize);
  if (values['child-model']) {
    const result = await measureRank(values['child-model'] as ModelName, values['child-variant'] as RankVariant, batchSize, Number(values.steps), Number(values.warmup));
    if (result) process.stdout.write(`\n${JSON.stringify(result)}\n`);
    return;
  }
  const models = values.models!.split(',') as ModelName[];
  const rounds = Number(values.rounds);
  // `rows`: samples one step trains on (every rank's shard together).
  type Entry = { label: string; rows: number; measure: (model: ModelName) => Promise<Measurement> };
  const entries: Entry[] = [
    { label: 'single thread', rows: batchSize, measure: (model) => pipelineChild(model, 'single thread', common) },
    { label: 'MPI, 1 rank', rows: batchSize, measure: (model) => ranksJob(1, model, 'all trained', common) },
    ...RANK_VARIANTS.map((variant) => ({ label: `MPI, 2 ranks, ${variant}`, rows: batchSize, measure: (model: ModelName) => ranksJob(2, model, variant, common) })),
    // What 2 ranks could reach with communication free: each rank's shard trained by a process of its
    // own, both at once; a data-parallel step waits for the slower, so the slower one's step counts.
    { label: `ceiling: two single-thread trainers at ${batchSize / 2} rows at once`, rows: batchSize, measure: (model) => concurrently(model, at(batchSize / 2)) },
    // Weak scaling (each rank keeps the single process's batch, the global batch doubles): how
    // Horovod and PyTorch DDP report scaling. Not the same training as the rows above: a larger batch.
    { label: `MPI, 2 ranks, ${batchSize} rows each (global batch ${2 * batchSize})`, rows: 2 * batchSize, measure: (model) => ranksJob(2, model, 'all trained', at(2 * batchSize)) },
    { label: `ceiling: two single-thread trainers at ${batchSize} rows at once`, rows: 2 * batchSize, measure: (model) => concurrently(model, common) },
    { label: 'pipeline, 2 stages, M=8 gpipe', rows: batchSize, measure: (model) => pipelineChild(model, 'pipeline M=8 gpipe', common) },
    { label: 'threaded wasm, 2 threads', rows: batchSize, measure: (model) => pipelineChild(model, 'threaded wasm, 2 threads', common) },
  ];
  const results: Record<string, Record<string, Measurement[]>> = {};
  for (let round = 0; round < rounds; round++) {
    for (const model of models) {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[(i + round) % entries.length]!;
        const result = await entry.measure(model);
        ((results[model] ??= {})[entry.label] ??= []).push(result);
        console.log(`round ${round + 1}, ${model}, ${entry.label}: ${((entry.rows * 1000) / result.stepMs).toFixed(1)} samples/s${result.bytesPerStep !== null && result.bytesPerStep !== undefined ? `, ${(result.bytesPerStep / 2 ** 20).toFixed(2)} MiB all-reduced per step` : ''}`);
      }
    }
  }
  const path = writeResult('mpi', { batchSize, rounds, cores: availableParallelism(), results });
  console.log(`\nwasm + our kernels, global batch ${batchSize}, one wasm thread per rank or stage; medians of ${rounds} rounds × ${values.steps} steps; ${availableParallelism()} cores\n`);
  console.log('| model | variant | samples/s | × single thread | MiB all-reduced per rank and step | all-reduce ms |');
  console.log('|---|---|---|---|---|---|');
  const rowsOf = new Map(entries.map((entry) => [entry.label, entry.rows]));
  for (const model of models) {
    const samples = (label: string) => median(results[model]![label]!.map((r) => (rowsOf.get(label)! * 1000) / r.stepMs));
    const base = samples('single thread');
    for (const { label } of entries) {
      const runs = results[model]![label]!;
      const bytes = runs[0]!.bytesPerStep;
      const mib = bytes === null || bytes === undefined ? '' : (median(runs.map((r) => r.bytesPerStep!)) / 2 ** 20).toFixed(2);
      const ms = runs[0]!.allreduceMs === null || runs[0]!.allreduceMs === undefined ? '' : median(runs.map((r) => r.allreduceMs!)).toFixed(1);
      console.log(`| ${model} | ${label} | ${samples(label).toFixed(1)} | ${(samples(label) / base).toFixed(2)}× | ${mib} | ${ms} |`);
    }
  }
  console.log(`\nraw: ${path}`);
}
