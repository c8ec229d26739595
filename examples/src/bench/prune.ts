// Gradient pruning on real Fashion-MNIST: baseline and prune trained in the same run, on the same data,
// seeds interleaved, test accuracy against training wall-clock: `npm run bench -- prune --full`.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer, type Trainer } from '@trainhooks/core-hooks';
import { gradPrunePlugin, type GradPrunePlugin } from '@trainhooks/plugin-grad-prune';
import { createModel, loadFashionMnist, MODEL_INPUT_LAYOUT, parseDataArgs, seedMathRandom, toTensors, type ModelName } from '@trainhooks/cli';
import { median, medianSpeedup, timeToAccuracy, writeResult } from './stats.js';

interface Point {
  readonly step: number;
  /** Training wall-clock so far, evaluations excluded. */
  readonly seconds: number;
  readonly testAccuracy: number;
}

interface RunResult {
  readonly model: string;
  readonly config: 'baseline' | 'prune';
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
  options: { epochs: number; batchSize: number; evaluations: number },
): Promise<RunResult> {
  // Baseline and prune of a seed draw the same Dropout masks.
  seedMathRandom(seed);
  const trainer: Trainer = createTrainer(createModel(model, { seed }));
  const plugin = config === 'prune' ? gradPrunePlugin({ seed }) : null;
  if (plugin) trainer.use(plugin);
  const samples = data.train.xs.shape[0]!;
  const stepsPerEpoch = Math.ceil(samples / options.batchSize);
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
    // Both configurations of a seed see the same batches in the same order.
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
    },
  });
  const backend = await setupBackend(values.backend as BackendChoice, { threads: Number(values.threads) });
  const source = parseDataArgs(argv);
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
  const options = { epochs: Number(values.epochs), batchSize: Number(values['batch-size']), evaluations: Number(values.evaluations) };
  const targetDrop = Number(values['target-drop']) / 100;
  const outputName = `prune-${(values.models as string).replaceAll(',', '-')}`;
  const results: RunResult[] = [];
  const summary: Array<Record<string, unknown>> = [];
  for (const model of (values.models as string).split(',') as ModelName[]) {
    const flatten = MODEL_INPUT_LAYOUT[model] === 'flat';
    const trainSet = loadFashionMnist({ ...source, split: 'train', limit: values.limit ? Number(values.limit) : undefined });
    const train = toTensors(trainSet, { flatten });
    const test = toTensors(loadFashionMnist({ ...source, split: 'test' }), { flatten });
    const data = { train: { ...train, ids: trainSet.ids }, test };
    const perSeed: Array<{ seed: number; speedup: number | null; baseline: RunResult; prune: RunResult }> = [];
    for (const seed of seeds) {
      // Alternate which configuration runs first, so drift of the machine hits both alike.
      const order = seed % 2 ? (['baseline', 'prune'] as const) : (['prune', 'baseline'] as const);
      const runs: Partial<Record<RunResult['config'], RunResult>> = {};
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
      const pruneTime = timeToAccuracy(runs.prune!.points, target);
      perSeed.push({ seed, speedup: baseTime && pruneTime ? baseTime / pruneTime : null, baseline: runs.baseline!, prune: runs.prune! });
    }
    tf.dispose([train.xs, train.ys, test.xs, test.ys]);
    const speedups = perSeed.map((s) => s.speedup);
    const accuracyDrop = perSeed.map((s) => (s.baseline.finalAccuracy - s.prune.finalAccuracy) * 100);
    summary.push({
      model,
      seeds: seeds.length,
      speedupMedian: medianSpeedup(speedups),
      speedups,
      missed: speedups.filter((s) => s === null).length,
      baselineAccuracy: median(perSeed.map((s) => s.baseline.finalAccuracy)),
      pruneAccuracy: median(perSeed.map((s) => s.prune.finalAccuracy)),
      accuracyDropPointsMedian: median(accuracyDrop),
      samplesPerSecond: { baseline: median(perSeed.map((s) => s.baseline.samplesPerSecond)), prune: median(perSeed.map((s) => s.prune.samplesPerSecond)) },
      skippedShare: median(perSeed.map((s) => s.prune.skippedVariableUpdates / (s.prune.skippedVariableUpdates + s.prune.variableUpdates))),
    });
    writeResult(outputName, { benchmark: 'prune', backend: backend.choice, options: values, results, summary });
  }
  console.log(`\n| model | seeds | time-to-accuracy speedup, median (per seed) | final acc baseline → prune (median) | Δ acc (pt) | samples/s baseline → prune | variable updates skipped |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const row of summary as Array<Record<string, any>>) {
    const perSeed = (row.speedups as Array<number | null>).map((s) => (s === null ? 'missed' : `${s.toFixed(2)}×`)).join(', ');
    console.log(
      `| ${row.model} | ${row.seeds} | ${row.speedupMedian === null ? 'missed' : `${row.speedupMedian.toFixed(2)}×`} (${perSeed}) | ` +
        `${row.baselineAccuracy.toFixed(4)} → ${row.pruneAccuracy.toFixed(4)} | ${(-row.accuracyDropPointsMedian).toFixed(2)} | ` +
        `${row.samplesPerSecond.baseline.toFixed(0)} → ${row.samplesPerSecond.prune.toFixed(0)} | ${(row.skippedShare * 100).toFixed(1)} % |`,
    );
  }
  console.log(`\nbackend ${backend.choice}; target = each seed's baseline final test accuracy − ${values['target-drop']} pt; raw: .bench-out/${outputName}.json`);
}
