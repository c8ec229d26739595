// `npm run bench -- backend --only threads`: one training step of cnn, mlp and resnet on wasm with
// our kernels at 1 and at 2 threads, beside each model's FLOP bound at the threaded matmul rate. A
// process starts wasm with one thread count only, so each (round, thread count) is a child process;
// rounds alternate which count goes first, so drift of the shared machine hits both alike. With
// --profile, the per-kernel time of one step (tf.profile) at each count shows which kernels scale.
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@trainhooks/backend';
import { createModel, trainingStepFlops, type ModelName } from '@trainhooks/cli/internal';
import { benchChildArgs, runJsonChild } from './child-process.js';
import { median, writeResult } from './stats.js';
import { matMulGflops, timeTrainingStep } from './step-timing.js';

interface ChildResult {
  readonly threads: number;
  readonly matMulGflops: number;
  readonly stepMs: Record<string, number>;
  /** Per kernel name, ms in one profiled step (only with --profile). */
  readonly kernelMs: Record<string, Record<string, number>>;
}

async function measureInThisProcess(threads: number, models: ModelName[], batchSize: number, repeats: number, profile: boolean): Promise<ChildResult> {
  const setup = await setupBackend('wasm', { threads, log: () => {} });
  if (setup.threads !== threads) throw new Error(`asked for ${threads} threads, got ${setup.threads}`);
  const matMul = await matMulGflops(7);
  const stepMs: Record<string, number> = {};
  const kernelMs: Record<string, Record<string, number>> = {};
  for (const name of models) {
    const timing = await timeTrainingStep(name, batchSize, repeats, 1, { profile });
    if (!timing) throw new Error(`${name}: wasm lacks a kernel its step needs`);
    stepMs[name] = timing.ms;
    if (timing.kernelMs) kernelMs[name] = timing.kernelMs;
  }
  return { threads, matMulGflops: matMul, stepMs, kernelMs };
}

function measureInChild(threads: number, argv: string[]): Promise<ChildResult> {
  return runJsonChild<ChildResult>(process.execPath, benchChildArgs('backend', [...argv, '--child-threads', String(threads)]));
}

export interface ThreadBenchOptions {
  readonly models: ModelName[];
  readonly batchSize: number;
  readonly repeats: number;
  readonly rounds: number;
  readonly threads: number[];
  readonly profile: boolean;
  /** Set in the child processes. */
  readonly childThreads: number | null;
  /** The arguments to hand the children. */
  readonly argv: string[];
}

export async function runThreadComparison(options: ThreadBenchOptions): Promise<void> {
  if (options.childThreads !== null) {
    const result = await measureInThisProcess(options.childThreads, options.models, options.batchSize, options.repeats, options.profile);
    process.stdout.write(`\n${JSON.stringify(result)}\n`);
    return;
  }
  const results: ChildResult[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 ? [...options.threads].reverse() : options.threads;
    for (const threads of order) {
      const result = await measureInChild(threads, options.argv);
      results.push(result);
      console.log(`round ${round + 1}, ${threads} thread(s): matmul ${result.matMulGflops.toFixed(1)} GFLOP/s, steps ${Object.entries(result.stepMs).map(([m, ms]) => `${m} ${ms.toFixed(1)} ms`).join(', ')}`);
    }
  }
  const of = (threads: number) => results.filter((r) => r.threads === threads);
  // The parent only builds models to count their FLOPs: stock cpu is enough.
  await tf.setBackend('cpu');
  const most = Math.max(...options.threads);
  const gflops = Object.fromEntries(options.threads.map((t) => [t, median(of(t).map((r) => r.matMulGflops))]));
  const rows = options.models.map((name) => {
    const model = createModel(name, { seed: 1 });
    const flops = trainingStepFlops(model, options.batchSize);
    model.dispose();
    const gflop = (flops.forward + flops.backward) / 1e9;
    const ms = Object.fromEntries(options.threads.map((t) => [t, median(of(t).map((r) => r.stepMs[name]!))]));
    return { model: name, gflop, boundMs: (gflop / gflops[most]!) * 1000, ms, speedup: ms[1]! / ms[most]! };
  });
  const path = writeResult('backend-threads', { options: { ...options, argv: undefined }, machineCores: (await import('node:os')).availableParallelism(), gflops, rows, results });
  console.log(`\nwasm + our kernels, batch ${options.batchSize}, median of ${options.rounds} rounds × ${options.repeats} steps; matmul 1024³: ${options.threads.map((t) => `${t} thread(s) ${gflops[t]!.toFixed(1)} GFLOP/s`).join(', ')}\n`);
  console.log(`| model | GFLOP/step | FLOP bound at ${most}-thread matmul rate (ms) | ${options.threads.map((t) => `${t} thread(s) (ms)`).join(' | ')} | speedup 1 → ${most} | ${most} threads / bound |`);
  console.log(`|---|---|---|${options.threads.map(() => '---').join('|')}|---|---|`);
  for (const row of rows) {
    console.log(`| ${row.model} | ${row.gflop.toFixed(2)} | ${row.boundMs.toFixed(1)} | ${options.threads.map((t) => row.ms[t]!.toFixed(1)).join(' | ')} | ${row.speedup.toFixed(2)}× | ${(row.ms[most]! / row.boundMs).toFixed(2)}× |`);
  }
  if (options.profile) {
    for (const name of options.models) {
      const kernels = new Set(results.flatMap((r) => Object.keys(r.kernelMs[name] ?? {})));
      const perThreads = (t: number, kernel: string) => median(of(t).map((r) => r.kernelMs[name]?.[kernel] ?? 0));
      const sorted = [...kernels].sort((a, b) => perThreads(1, b) - perThreads(1, a)).slice(0, 12);
      console.log(`\n${name}: kernel time in one step (ms, tf.profile), top 12 at 1 thread\n`);
      console.log(`| kernel | ${options.threads.map((t) => `${t} thread(s)`).join(' | ')} | speedup |\n|---|${options.threads.map(() => '---').join('|')}|---|`);
      for (const kernel of sorted) {
        const cells = options.threads.map((t) => perThreads(t, kernel).toFixed(2));
        console.log(`| ${kernel} | ${cells.join(' | ')} | ${(perThreads(1, kernel) / Math.max(perThreads(most, kernel), 1e-9)).toFixed(2)}× |`);
      }
    }
  }
  console.log(`\nraw: ${path}`);
}
