// `npm run bench -- backend`: stock tfjs kernels against ours (per kernel), and one training step of
// cnn, mlp and resnet on stock cpu, stock wasm and ours, each beside its FLOP bound.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { CPU_KERNELS, installKernels, uninstallKernels, WASM_KERNELS, type KernelOverride } from '@trainhooks/backend/internal';
import { createModel, MODEL_NAMES, trainingStepFlops, type ModelName } from '@trainhooks/cli/internal';
import { median, writeResult } from './stats.js';
import { matMulGflops, timeTrainingStep } from './step-timing.js';
import { runThreadComparison } from './backend-threads.js';

type Variant = 'stock cpu' | 'ours cpu' | 'stock wasm' | 'ours wasm';
const VARIANTS: Record<Variant, { backend: 'cpu' | 'wasm'; ours: readonly KernelOverride[] | null }> = {
  'stock cpu': { backend: 'cpu', ours: null },
  'ours cpu': { backend: 'cpu', ours: CPU_KERNELS },
  'stock wasm': { backend: 'wasm', ours: null },
  'ours wasm': { backend: 'wasm', ours: WASM_KERNELS },
};

async function useVariant(variant: Variant): Promise<void> {
  const { backend, ours } = VARIANTS[variant];
  uninstallKernels(CPU_KERNELS);
  uninstallKernels(WASM_KERNELS);
  if (ours) installKernels(ours);
  await tf.setBackend(backend);
  await tf.ready();
}

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

interface KernelCase {
  name: string;
  kernel: string;
  /** FLOPs of one call, for GFLOP/s. */
  flops: number;
  make: () => { inputs: tf.NamedTensorMap; attrs: tf.NamedAttrMap };
}

function convCases(): KernelCase[] {
  const cases: Array<[string, number, number, number, number, number]> = [
    // name, batch, size, in channels, out channels, kernel
    ['cnn conv4 (64×13×13×32→64, 3×3)', 64, 13, 32, 64, 3],
    ['cnn conv1 (64×28×28×1→32, 3×3)', 64, 28, 1, 32, 3],
  ];
  return cases.flatMap(([label, n, size, ci, co, k]) => {
    const out = size - k + 1;
    const flops = 2 * n * out * out * k * k * ci * co;
    const x = () => tf.randomNormal([n, size, size, ci], 0, 1, 'float32', 1);
    const dy = () => tf.randomNormal([n, out, out, co], 0, 1, 'float32', 2);
    const filter = () => tf.randomNormal([k, k, ci, co], 0, 1, 'float32', 3);
    const conv = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
    return [
      { name: `Conv2D ${label}`, kernel: 'Conv2D', flops, make: () => ({ inputs: { x: x(), filter: filter() }, attrs: conv }) },
      {
        name: `Conv2DBackpropFilter ${label}`,
        kernel: 'Conv2DBackpropFilter',
        flops,
        make: () => ({ inputs: { x: x(), dy: dy() }, attrs: { ...conv, filterShape: [k, k, ci, co] } }),
      },
      {
        name: `Conv2DBackpropInput ${label}`,
        kernel: 'Conv2DBackpropInput',
        flops,
        make: () => ({ inputs: { dy: dy(), filter: filter() }, attrs: { ...conv, inputShape: [n, size, size, ci] } }),
      },
    ];
  });
}

function matMulCases(): KernelCase[] {
  const a = () => tf.randomNormal([1, 128, 512], 0, 1, 'float32', 4);
  const b = () => tf.randomNormal([1, 128, 512], 0, 1, 'float32', 5);
  const bt = () => tf.randomNormal([1, 512, 128], 0, 1, 'float32', 6);
  const flops = 2 * 512 * 128 * 512;
  return [
    { name: 'BatchMatMul (512×128)·(128×512)', kernel: 'BatchMatMul', flops, make: () => ({ inputs: { a: bt(), b: b() }, attrs: { transposeA: false, transposeB: false } }) },
    { name: 'BatchMatMul (128×512)ᵀ·(128×512)', kernel: 'BatchMatMul', flops, make: () => ({ inputs: { a: a(), b: b() }, attrs: { transposeA: true, transposeB: false } }) },
    { name: 'BatchMatMul (512×128)·(512×128)ᵀ', kernel: 'BatchMatMul', flops, make: () => ({ inputs: { a: bt(), b: bt() }, attrs: { transposeA: false, transposeB: true } }) },
  ];
}

/**
 * Median ms per variant for one kernel case. Variants alternate call by call (in rotating order), so a
 * burst of load on this shared machine hits all of them alike instead of one variant's whole block.
 */
async function timeKernelCase(testCase: KernelCase, repeats: number): Promise<Record<Variant, number | null>> {
  const variants = Object.keys(VARIANTS) as Variant[];
  const inputs: Partial<Record<'cpu' | 'wasm', { inputs: tf.NamedTensorMap; attrs: tf.NamedAttrMap }>> = {};
  const times = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
  const available = {} as Record<Variant, boolean>;
  for (const variant of variants) {
    await useVariant(variant);
    available[variant] = hasKernel(testCase.kernel);
    inputs[VARIANTS[variant].backend] ??= testCase.make();
  }
  for (let round = 0; round <= repeats; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      if (!available[variant]) continue;
      // Stock cpu's filter gradient takes 25–50 s a call: one timed call, no warm-up.
      const slow = variant === 'stock cpu' && testCase.kernel === 'Conv2DBackpropFilter';
      if (slow && round > 0) continue;
      await useVariant(variant);
      const { inputs: kernelInputs, attrs } = inputs[VARIANTS[variant].backend]!;
      const start = performance.now();
      const output = tf.engine().runKernel(testCase.kernel, kernelInputs, attrs) as tf.Tensor;
      await output.data();
      const elapsed = performance.now() - start;
      output.dispose();
      if (round > 0 || slow) times[variant].push(elapsed); // round 0 warms up
    }
  }
  for (const prepared of Object.values(inputs)) tf.dispose(Object.values(prepared!.inputs));
  return Object.fromEntries(variants.map((v) => [v, available[v] ? median(times[v]) : null])) as Record<Variant, number | null>;
}

/** Untransposed square matmul on stock wasm: the FLOP rate the bound is computed with. */
async function wasmMatMulGflops(): Promise<number> {
  await useVariant('stock wasm');
  return matMulGflops(5);
}

export async function runBackendBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'batch-size': { type: 'string', default: '64' },
      repeats: { type: 'string', default: '5' },
      // Kernels take milliseconds: many repeats make their medians stable.
      'kernel-repeats': { type: 'string', default: '21' },
      only: { type: 'string' }, // 'kernels', 'steps' or 'threads'
      // --only threads: 1 and N wasm threads, each in child processes, alternating over rounds.
      threads: { type: 'string', default: '1,2' },
      rounds: { type: 'string', default: '3' },
      profile: { type: 'boolean', default: false },
      'child-threads': { type: 'string' },
      models: { type: 'string', default: MODEL_NAMES.join(',') },
      // Stock cpu takes minutes per conv step: one timed step by default.
      'stock-cpu-steps': { type: 'string', default: '1' },
      'skip-stock-cpu-steps': { type: 'boolean', default: false },
    },
  });
  const batchSize = Number(values['batch-size']);
  const repeats = Number(values.repeats);
  const kernelRepeats = Number(values['kernel-repeats']);
  const runKernels = values.only !== 'steps';
  const runSteps = values.only !== 'kernels';
  const models = values.models!.split(',') as ModelName[];
  if (values.only === 'threads') {
    return runThreadComparison({
      models,
      batchSize,
      repeats,
      rounds: Number(values.rounds),
      threads: values.threads!.split(',').map(Number),
      profile: values.profile!,
      childThreads: values['child-threads'] === undefined ? null : Number(values['child-threads']),
      argv: argv.filter((arg, i) => arg !== '--child-threads' && argv[i - 1] !== '--child-threads'),
    });
  }

  const gflops = await wasmMatMulGflops();
  console.log(`wasm matmul 1024³: ${gflops.toFixed(1)} GFLOP/s`);

  const kernelRows: Array<Record<string, string | number | null>> = [];
  for (const testCase of runKernels ? [...convCases(), ...matMulCases()] : []) {
    const row: Record<string, string | number | null> = { kernel: testCase.name, ...(await timeKernelCase(testCase, kernelRepeats)) };
    kernelRows.push(row);
    console.log(JSON.stringify(row));
  }

  const stepRows: Array<Record<string, string | number | null>> = [];
  for (const name of runSteps ? models : []) {
    const model = createModel(name, { seed: 1 });
    const flops = trainingStepFlops(model, batchSize);
    model.dispose();
    const boundMs = ((flops.forward + flops.backward) / (gflops * 1e9)) * 1000;
    const row: Record<string, string | number | null> = { model: name, 'FLOP bound': boundMs, GFLOP: (flops.forward + flops.backward) / 1e9 };
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const stockCpu = variant === 'stock cpu';
      if (stockCpu && values['skip-stock-cpu-steps']) {
        row[variant] = null;
        continue;
      }
      await useVariant(variant);
      // Stock cpu's conv steps take minutes: no warm-up step there (it would not change the order of magnitude).
      row[variant] = (await timeTrainingStep(name, batchSize, stockCpu ? Number(values['stock-cpu-steps']) : repeats, stockCpu ? 0 : 1))?.ms ?? null;
    }
    stepRows.push(row);
    console.log(JSON.stringify(row));
  }

  const path = writeResult(`backend${values.only ? '-' + values.only : ''}`, {
    batchSize,
    repeats,
    kernelRepeats,
    wasmMatMulGflops: gflops,
    kernels: kernelRows,
    steps: stepRows,
  });
  const cell = (v: unknown) => (v === null || v === undefined ? 'n/a' : typeof v === 'number' ? v.toFixed(1) : String(v));
  const variants = Object.keys(VARIANTS);
  console.log(`\nKernels, median ms (wasm on 1 thread, matmul ${gflops.toFixed(1)} GFLOP/s):\n`);
  console.log(`| kernel | ${variants.join(' | ')} |\n|---|${variants.map(() => '---').join('|')}|`);
  for (const row of kernelRows) console.log(`| ${row.kernel} | ${variants.map((v) => cell(row[v])).join(' | ')} |`);
  console.log(`\nTraining step at batch ${batchSize}, median ms (wasm on 1 thread; --only threads compares thread counts):\n`);
  console.log(`| model | GFLOP | FLOP bound | ${variants.join(' | ')} | ours wasm / bound |\n|---|---|---|${variants.map(() => '---').join('|')}|---|`);
  for (const row of stepRows) {
    const ratio = typeof row['ours wasm'] === 'number' ? (row['ours wasm'] as number) / (row['FLOP bound'] as number) : null;
    console.log(`| ${row.model} | ${cell(row.GFLOP)} | ${cell(row['FLOP bound'])} | ${variants.map((v) => cell(row[v])).join(' | ')} | ${ratio === null ? 'n/a' : ratio.toFixed(2) + '×'} |`);
  }
  console.log(`\nraw: ${path}`);
}
