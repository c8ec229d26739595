// Gradient pruning on real Fashion-MNIST: baseline and prune trained in the same run, on the same data,
// seeds interleaved, test accuracy against training wall-clock: `npm run bench -- prune --full`.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer, HookStage, SeededRandom, type Trainer } from '@trainhooks/core-hooks/internal';
import { gradPrunePlugin, type GradPrunePlugin } from '@trainhooks/plugin-grad-prune';
import { createModel, loadFashionMnist, MODEL_INPUT_LAYOUT, parseDataArgs, seedMathRandom, toTensors, type ModelName } from '@trainhooks/cli/internal';
import { median, medianSpeedup, timeToAccuracy, writeResult } from './stats.js';

interface Point {
  readonly step: number;
  /** Training wall-clock so far, evaluations excluded. */
  readonly seconds: number;
  readonly testAccuracy: number;
}

/**
 * An upper-bound probe, not the plugin: skips the first `units` units with a fixed probability `p` from
 * epoch `fromEpoch` on, as a monitor that knew in advance which units may rest would. It shows what
 * pruning those units at that rate costs in accuracy and gains in time.
 */
interface FixedPrefix {
  readonly units: number;
  readonly p: number;
  readonly fromEpoch: number;
}

type Config = 'baseline' | 'prune' | 'fixed-prefix';

function useFixedPrefix(trainer: Trainer, probe: FixedPrefix, seed: number, stepsPerEpoch: number): void {
  const random = new SeededRandom(seed);
  const variables = trainer.units.slice(0, probe.units).flatMap((unit) => unit.variables.map((variable) => variable.name));
  trainer.hooks.beforeForward.tap({ name: 'FixedPrefixProbe', stage: HookStage.PRUNE }, (context) => {
    if (context.step < probe.fromEpoch * stepsPerEpoch || random.next() >= probe.p) return;
    for (const name of variables) context.skip.add(name);
  });
}

interface RunResult {
  readonly model: string;
  readonly config: Config;
  readonly seed: number;
  readonly points: Point[];
  readonly samplesPerSecond: number;
  readonly finalAccuracy: number;
  readonly updatePhaseP50Ms: number;
  readonly skippedVariableUpdates: number;
  readonly variableUpdates: number;
  readonly prune: ReturnType<GradPrunePlugin['report']> | null;
}

async function trainOnce(
  model: ModelName,
  config: RunResult['config'],
  seed: number,
  data: { train: { xs: tf.Tensor; ys: tf.Tensor; ids: Int32Array }; test: { xs: tf.Tensor; ys: tf.Tensor } },
  options: { epochs: number; batchSize: number; evaluations: number; pruneOptions: Record<string, unknown>; fixedPrefix: FixedPrefix },
): Promise<RunResult> {
  // Every configuration of a seed draws the same Dropout masks.
  seedMathRandom(seed);
  const trainer: Trainer = createTrainer(createModel(model, { seed }));
  const samples = data.train.xs.shape[0]!;
  const stepsPerEpoch = Math.ceil(samples / options.batchSize);
  const plugin = config === 'prune' ? gradPrunePlugin({ seed, ...options.pruneOptions }) : null;
  if (plugin) trainer.use(plugin);
  if (config === 'fixed-prefix') useFixedPrefix(trainer, options.fixedPrefix, seed, stepsPerEpoch);
  const evaluateEvery = Math.max(1, Math.floor((stepsPerEpoch * options.epochs) / options.evaluations));
  const points: Point[] = [];
  let trainingMs = 0;
  let segmentStart = performance.now();
  const evaluate = async (step: number) => {
    trainingMs += performance.now() - segmentStart;
    const { acc } = await trainer.evaluate(data.test.xs, data.test.ys, { batchSize: 512 });
    points.push({ step, seconds: trainingMs / 1000, testAccuracy: acc! });
    segmentStart = performance.now();
  };
  await trainer.fit(data.train.xs, data.train.ys, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    // Every configuration of a seed sees the same batches in the same order.
    shuffleSeed: seed,
    sampleIds: data.train.ids,
    callbacks: {
      onBatchEnd: async () => {
        const step = trainer.globalStep;
        if (step % evaluateEvery === 0 && step < stepsPerEpoch * options.epochs) await evaluate(step);
      },
    },
  });
  if (points.at(-1)?.step !== trainer.globalStep) await evaluate(trainer.globalStep);
  const stats = trainer.stats();
  const result: RunResult = {
    model,
    config,
    seed,
    points,
    samplesPerSecond: (samples * options.epochs) / (trainingMs / 1000),
    finalAccuracy: points.at(-1)!.testAccuracy,
    updatePhaseP50Ms: stats.phases.update!.p50Us / 1000,
    skippedVariableUpdates: stats.counters.skippedVariableUpdates ?? 0,
    variableUpdates: stats.counters.variableUpdates ?? 0,
    prune: plugin ? plugin.report() : null,
  };
  await trainer.dispose();
  return result;
}

export async function runPruneBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      backend: { type: 'string', default: 'auto' },
      // wasm threads: 1 is how the published figures were measured (see BENCHMARKS.md).
      threads: { type: 'string', default: '1' },
      models: { type: 'string', default: 'mlp,cnn,resnet' },
      seeds: { type: 'string', default: '3' },
      epochs: { type: 'string', default: '4' },
      'batch-size': { type: 'string', default: '128' },
      limit: { type: 'string' },
      evaluations: { type: 'string', default: '16' },
      'target-drop': { type: 'string', default: '0.3' },
      // Configurations besides the baseline: prune (the plugin) and/or fixed-prefix (the probe above).
      configs: { type: 'string', default: 'prune' },
      // JSON options for gradPrunePlugin besides the seed (defaults when absent).
      'prune-options': { type: 'string', default: '{}' },
      'fixed-prefix': { type: 'string', default: '{"units":1,"p":0.9,"fromEpoch":1}' },
    },
  });
  const backend = await setupBackend(values.backend as BackendChoice, { threads: Number(values.threads) });
  const source = parseDataArgs(argv);
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
  const options = {
    epochs: Number(values.epochs),
    batchSize: Number(values['batch-size']),
    evaluations: Number(values.evaluations),
    pruneOptions: JSON.parse(values['prune-options'] as string) as Record<string, unknown>,
    fixedPrefix: JSON.parse(values['fixed-prefix'] as string) as FixedPrefix,
  };
  const variants = (values.configs as string).split(',') as Array<Exclude<Config, 'baseline'>>;
  const targetDrop = Number(values['target-drop']) / 100;
  const outputName = `prune-${(values.models as string).replaceAll(',', '-')}-${variants.join('-')}`;
  const results: RunResult[] = [];
  const summary: Array<Record<string, unknown>> = [];
  for (const model of (values.models as string).split(',') as ModelName[]) {
    const flatten = MODEL_INPUT_LAYOUT[model] === 'flat';
    const trainSet = loadFashionMnist({ ...source, split: 'train', limit: values.limit ? Number(values.limit) : undefined });
    const train = toTensors(trainSet, { flatten });
    const test = toTensors(loadFashionMnist({ ...source, split: 'test' }), { flatten });
    const data = { train: { ...train, ids: trainSet.ids }, test };
    const pairs: Array<{ seed: number; variant: RunResult['config']; speedup: number | null; baseline: RunResult; run: RunResult }> = [];
    for (const seed of seeds) {
      // Rotate which configuration runs first, so drift of the machine hits all alike.
      const configs: Config[] = ['baseline', ...variants];
      const order = configs.map((_, i) => configs[(i + seed) % configs.length]!);
      const runs: Partial<Record<Config, RunResult>> = {};
      for (const config of order) {
        const run = await trainOnce(model, config, seed, data, options);
        runs[config] = run;
        results.push(run);
        console.log(
          `${model} seed ${seed} ${config}: final acc ${run.finalAccuracy.toFixed(4)}, ${run.samplesPerSecond.toFixed(0)} samples/s, ` +
            `update p50 ${run.updatePhaseP50Ms.toFixed(2)} ms, skipped updates ${run.skippedVariableUpdates}/${run.skippedVariableUpdates + run.variableUpdates}`,
        );
        writeResult(outputName, { benchmark: 'prune', backend: backend.choice, options: values, results, summary });
      }
      const target = runs.baseline!.finalAccuracy - targetDrop;
      const baseTime = timeToAccuracy(runs.baseline!.points, target);
      for (const variant of variants) {
        const time = timeToAccuracy(runs[variant]!.points, target);
        pairs.push({ seed, variant, speedup: baseTime && time ? baseTime / time : null, baseline: runs.baseline!, run: runs[variant]! });
      }
    }
    tf.dispose([train.xs, train.ys, test.xs, test.ys]);
    for (const variant of variants) {
      const perSeed = pairs.filter((pair) => pair.variant === variant);
      const speedups = perSeed.map((s) => s.speedup);
      summary.push({
        model,
        variant,
        seeds: seeds.length,
        speedupMedian: medianSpeedup(speedups),
        speedups,
        missed: speedups.filter((s) => s === null).length,
        baselineAccuracy: median(perSeed.map((s) => s.baseline.finalAccuracy)),
        variantAccuracy: median(perSeed.map((s) => s.run.finalAccuracy)),
        accuracyDropPointsMedian: median(perSeed.map((s) => (s.baseline.finalAccuracy - s.run.finalAccuracy) * 100)),
        samplesPerSecond: { baseline: median(perSeed.map((s) => s.baseline.samplesPerSecond)), variant: median(perSeed.map((s) => s.run.samplesPerSecond)) },
        skippedShare: median(perSeed.map((s) => s.run.skippedVariableUpdates / (s.run.skippedVariableUpdates + s.run.variableUpdates))),
      });
    }
    writeResult(outputName, { benchmark: 'prune', backend: backend.choice, options: values, results, summary });
  }
  console.log(`\n| model | variant | seeds | time-to-accuracy speedup, median (per seed) | final acc baseline → variant (median) | Δ acc (pt) | samples/s baseline → variant | variable updates skipped |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of summary as Array<Record<string, any>>) {
    const perSeed = (row.speedups as Array<number | null>).map((s) => (s === null ? 'missed' : `${s.toFixed(2)}×`)).join(', ');
    console.log(
      `| ${row.model} | ${row.variant} | ${row.seeds} | ${row.speedupMedian === null ? 'missed' : `${row.speedupMedian.toFixed(2)}×`} (${perSeed}) | ` +
        `${row.baselineAccuracy.toFixed(4)} → ${row.variantAccuracy.toFixed(4)} | ${(-row.accuracyDropPointsMedian).toFixed(2)} | ` +
        `${row.samplesPerSecond.baseline.toFixed(0)} → ${row.samplesPerSecond.variant.toFixed(0)} | ${(row.skippedShare * 100).toFixed(1)} % |`,
    );
  }
  console.log(`\nbackend ${backend.choice}; target = each seed's baseline final test accuracy − ${values['target-drop']} pt; raw: .bench-out/${outputName}.json`);
}
