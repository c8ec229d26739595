// `npm run bench -- pipeline`: samples/s of one training step at batch 256 on wasm + our kernels, same
// run, per model: the single-thread trainer (the baseline), the pipeline plugin with 2 stages (one
// thread each) at 4 and 8 micro-batches under both schedules, the threaded single-process trainer (2
// wasm threads), and the two-worker ceiling (two independent single-thread trainers at once, their
// samples/s added); with the pipeline's work on one stage, the two bound what 2 stages can reach. Each
// measurement is a child process of its own (a process starts wasm with one thread count); rounds
// rotate the order so drift of the shared machine hits every variant alike.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@trainhooks/backend';
import { createTrainer } from '@trainhooks/core-hooks';
import { createModel, MODEL_NAMES, type ModelName } from '@trainhooks/cli';
import { pipelinePlugin, type PipelineSchedule } from '@trainhooks/plugin-pipeline';
import { benchChildArgs, runJsonChild } from './child-process.js';
import { median, writeResult } from './stats.js';
import { randomBatch } from './step-timing.js';

interface Variant {
  readonly name: string;
  /** Threads of the process's own wasm backend. */
  readonly threads: number;
  readonly pipeline: { microBatches: number; schedule: PipelineSchedule; deferWeightGradients?: boolean; threadsPerStage?: number; stages?: number } | null;
  /** Processes started at once (the ceiling runs two). */
  readonly copies: number;
}

const ONE_STAGE = (microBatches: number) => `pipeline M=${microBatches} gpipe on 1 stage`;
const TWO_TRAINERS = 'two single-thread trainers at once';

function variantsFor(microBatchCounts: readonly number[]): Variant[] {
  const most = Math.max(...microBatchCounts);
  return [
    { name: 'single thread', threads: 1, pipeline: null, copies: 1 },
    ...microBatchCounts.flatMap((microBatches) =>
      (['gpipe', '1f1b'] as const).map((schedule) => ({ name: `pipeline M=${microBatches} ${schedule}`, threads: 1, pipeline: { microBatches, schedule }, copies: 1 })),
    ),
    // Ablations at the most micro-batches: dense weight gradients per micro-batch (no B/W split), and
    // stages of 2 wasm threads each (more threads than cores: an idle stage's core helps the busy one).
    { name: `pipeline M=${most} gpipe, W per micro-batch`, threads: 1, pipeline: { microBatches: most, schedule: 'gpipe', deferWeightGradients: false }, copies: 1 },
    { name: `pipeline M=${most} gpipe, 2 threads per stage`, threads: 1, pipeline: { microBatches: most, schedule: 'gpipe', threadsPerStage: 2 }, copies: 1 },
    // All of the pipeline's work on one core (one stage): what micro-batching and messaging cost before
    // any overlap. With the two-trainer ceiling it bounds what 2 stages can reach (printed below).
    { name: ONE_STAGE(most), threads: 1, pipeline: { microBatches: most, schedule: 'gpipe', stages: 1 }, copies: 1 },
    { name: 'threaded wasm, 2 threads', threads: 2, pipeline: null, copies: 1 },
    { name: TWO_TRAINERS, threads: 1, pipeline: null, copies: 2 },
  ];
}

interface ChildResult {
  readonly stepMs: number;
  /** Pipeline only: median measured bubble fraction and the plan's prediction. */
  readonly bubbleFraction: number | null;
  readonly predictedSpeedup: number | null;
  readonly plan: string | null;
}

async function measure(model: ModelName, variant: Variant, batchSize: number, steps: number, warmup: number): Promise<ChildResult> {
  const setup = await setupBackend('wasm', { threads: variant.threads, log: () => {} });
  if (setup.threads !== variant.threads) throw new Error(`asked for ${variant.threads} threads, got ${setup.threads}`);
  const plugin = variant.pipeline ? pipelinePlugin({ stages: 2, threadsPerStage: 1, fallback: 'never', ...variant.pipeline }) : null;
  const trainer = createTrainer(createModel(model, { seed: 1 }));
  if (plugin) trainer.use(plugin);
  const { x, y } = randomBatch(model, batchSize);
  const times: number[] = [];
  const bubbles: number[] = [];
  for (let step = 0; step < warmup + steps; step++) {
    const began = performance.now();
    await trainer.step({ x, y });
    if (step < warmup) continue;
    times.push(performance.now() - began);
    if (plugin) bubbles.push(plugin.lastStep()!.bubbleFraction);
  }
  const result = {
    stepMs: median(times),
    bubbleFraction: plugin ? median(bubbles) : null,
    predictedSpeedup: plugin?.plan()?.predictedSpeedup ?? null,
    plan: plugin ? plugin.explain() : null,
  };
  await trainer.dispose();
  tf.dispose([x, y]);
  return result;
}

function runChild(argv: string[]): Promise<ChildResult> {
  return runJsonChild<ChildResult>(process.execPath, benchChildArgs('pipeline', argv));
}

export async function runPipelineBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: MODEL_NAMES.join(',') },
      'batch-size': { type: 'string', default: '256' },
      steps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      'micro-batches': { type: 'string', default: '4,8' },
      variants: { type: 'string' },
      'child-model': { type: 'string' },
      'child-variant': { type: 'string' },
    },
  });
  const batchSize = Number(values['batch-size']);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const all = variantsFor(values['micro-batches']!.split(',').map(Number));
  if (values['child-model']) {
    const variant = all.find((v) => v.name === values['child-variant'])!;
    const result = await measure(values['child-model'] as ModelName, variant, batchSize, steps, warmup);
    process.stdout.write(`\n${JSON.stringify(result)}\n`);
    return;
  }
  const models = values.models!.split(',') as ModelName[];
  const variants = values.variants ? all.filter((v) => values.variants!.split(',').some((name) => v.name.startsWith(name))) : all;
  const rounds = Number(values.rounds);
  const common = ['--batch-size', String(batchSize), '--steps', String(steps), '--warmup', String(warmup), '--micro-batches', values['micro-batches']!];
  const samples: Record<string, Record<string, number[]>> = {};
  const extras: Record<string, Record<string, ChildResult[]>> = {};
  for (let round = 0; round < rounds; round++) {
    for (const model of models) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const variant of order) {
        const args = [...common, '--child-model', model, '--child-variant', variant.name];
        const results = await Promise.all(Array.from({ length: variant.copies }, () => runChild(args)));
        // Samples/s of the copies together: each processes its own batches.
        const samplesPerSecond = results.reduce((sum, r) => sum + (batchSize * 1000) / r.stepMs, 0);
        ((samples[model] ??= {})[variant.name] ??= []).push(samplesPerSecond);
        ((extras[model] ??= {})[variant.name] ??= []).push(results[0]!);
        console.log(`round ${round + 1}, ${model}, ${variant.name}: ${samplesPerSecond.toFixed(1)} samples/s`);
      }
    }
  }
  const path = writeResult('pipeline', { batchSize, steps, warmup, rounds, cores: availableParallelism(), samples, extras });
  console.log(`\nwasm + our kernels, batch ${batchSize}, 2 stages; median samples/s of ${rounds} rounds × ${steps} steps (after ${warmup} warm-up); ${availableParallelism()} cores\n`);
  console.log('| model | variant | samples/s | × single thread | bubble measured | bubble (K−1)/(M+K−1) | plan predicted |');
  console.log('|---|---|---|---|---|---|---|');
  for (const model of models) {
    const base = median(samples[model]!['single thread'] ?? [NaN]);
    for (const variant of variants) {
      const value = median(samples[model]![variant.name]!);
      const runs = extras[model]![variant.name]!;
      const bubble = variant.pipeline ? `${(median(runs.map((r) => r.bubbleFraction!)) * 100).toFixed(0)}%` : '';
      const stages = variant.pipeline?.stages ?? 2;
      const ideal = variant.pipeline ? `${(((stages - 1) / (variant.pipeline.microBatches + stages - 1)) * 100).toFixed(0)}%` : '';
      const predicted = variant.pipeline ? `${median(runs.map((r) => r.predictedSpeedup!)).toFixed(2)}×` : '';
      console.log(`| ${model} | ${variant.name} | ${value.toFixed(1)} | ${(value / base).toFixed(2)}× | ${bubble} | ${ideal} | ${predicted} |`);
    }
  }
  const oneStage = ONE_STAGE(Math.max(...values['micro-batches']!.split(',').map(Number)));
  for (const model of models) {
    const of = (name: string) => (samples[model]![name] ? median(samples[model]![name]!) : null);
    const [single, two, one] = [of('single thread'), of(TWO_TRAINERS), of(oneStage)];
    // 2 stages do the one-stage work on 2 cores at best as fast as two independent processes share them.
    if (single && two && one) console.log(`\n${model}: best 2 stages can do (no bubble, the cores shared as by two trainers) ≈ two trainers at once ${(two / single).toFixed(2)}× × 1 stage ${(one / single).toFixed(2)}× = ${((two / single) * (one / single)).toFixed(2)}×`);
  }
  for (const model of models) {
    const plan = extras[model]!['pipeline M=8 1f1b']?.[0]?.plan;
    if (plan) console.log(`\n${model}, M=8 1f1b:\n${plan}`);
  }
  console.log(`\nraw: ${path}`);
}
