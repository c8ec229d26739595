// Layer freezing on real Fashion-MNIST: baseline and freeze of each seed trained side by side (one
// process per core), on the same per-epoch samples, for each optimizer schedule:
// `npm run bench -- freeze --full`. Each run is a child process (`--job`), so the two of a pair
// share nothing but the machine; results are written to .bench-out/ as they arrive. Each child seeds
// Math.random with its seed, so baseline and freeze of a seed draw the same Dropout masks (the CLI's
// seedMathRandom, as `trainhooks train --seed` does).
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer, SeededRandom, shuffleInPlace } from '@trainhooks/core-hooks/internal';
import { freezePlugin, type FreezeReport } from '@trainhooks/plugin-freeze';
import { createModel, loadFashionMnist, MODEL_INPUT_LAYOUT, parseDataArgs, seedMathRandom, toTensors, type ModelName } from '@trainhooks/cli/internal';
import { benchChildArgs, runJsonChild } from './child-process.js';
import { median, medianSpeedup, parseModelNumbers, timeToAccuracy, writeResult } from './stats.js';

/** How the learning rate evolves: SGD + momentum with a ×0.1 step decay, or Adam / RMSProp at a constant rate. */
const SCHEDULES = {
  'sgd-step': { optimizer: () => tf.train.momentum(0.02, 0.9), learningRate: 0.02, decayEvery: 10, decayFactor: 0.1 },
  adam: { optimizer: () => tf.train.adam(0.001), learningRate: 0.001, decayEvery: 0, decayFactor: 1 },
  rmsprop: { optimizer: () => tf.train.rmsprop(0.001), learningRate: 0.001, decayEvery: 0, decayFactor: 1 },
} as const;
type ScheduleName = keyof typeof SCHEDULES;

interface Job {
  readonly model: ModelName;
  readonly schedule: ScheduleName;
  readonly config: 'baseline' | 'freeze';
  readonly seed: number;
  readonly epochs: number;
  readonly samplesPerEpoch: number;
  readonly testSamples: number;
  readonly batchSize: number;
  readonly backend: string;
  readonly threads: number;
  readonly dataArgs: string[];
  /** Options for freezePlugin besides the probe (defaults when empty). */
  readonly freezeOptions: Record<string, unknown>;
  /** Epochs between two step decays (the schedule's own when absent; 0: never). */
  readonly decayEvery?: number;
}

interface EpochPoint {
  readonly epoch: number;
  /** Training wall-clock so far, test evaluations excluded. */
  readonly seconds: number;
  readonly testAccuracy: number;
  readonly frozenPrefix: number;
  readonly learningRate: number;
}

interface JobResult extends Job {
  readonly points: EpochPoint[];
  readonly finalAccuracy: number;
  readonly stepMsMedian: number;
  readonly freezes: Array<{ unit: string; index: number; step: number; epoch: number }>;
  readonly unfreezes: number;
  readonly report: FreezeReport | null;
}

/** One configuration of one seed, in this process. */
async function runJob(job: Job): Promise<JobResult> {
  await setupBackend(job.backend as BackendChoice, { threads: job.threads, log: () => {} });
  // Baseline and freeze of a seed draw the same Dropout masks.
  seedMathRandom(job.seed);
  const flatten = MODEL_INPUT_LAYOUT[job.model] === 'flat';
  const source = parseDataArgs(job.dataArgs);
  const trainSet = loadFashionMnist({ ...source, split: 'train' });
  const testSet = loadFashionMnist({ ...source, split: 'test', limit: job.testSamples });
  const train = toTensors(trainSet, { flatten });
  const test = toTensors(testSet, { flatten });
  // The probe: held-out samples (the end of the training file, never drawn below).
  const probeRows = 64;
  const drawable = trainSet.count - probeRows;
  const probe = tf.slice(train.xs, [drawable], [probeRows]);

  const schedule = SCHEDULES[job.schedule];
  const decayEvery = job.decayEvery ?? schedule.decayEvery;
  const trainer = createTrainer(createModel(job.model, { seed: job.seed }), { optimizer: schedule.optimizer() });
  const plugin = job.config === 'freeze' ? freezePlugin({ ...job.freezeOptions, probe }) : null;
  if (plugin) trainer.use(plugin);
  const freezes: JobResult['freezes'] = [];
  let unfreezes = 0;
  trainer.events.on('freeze', (event) => void freezes.push(event));
  trainer.events.on('unfreeze', () => void unfreezes++);

  const random = new SeededRandom(job.seed);
  const order = Int32Array.from({ length: drawable }, (_, i) => i);
  const points: EpochPoint[] = [];
  let trainingMs = 0;
  for (let epoch = 0; epoch < job.epochs; epoch++) {
    if (decayEvery > 0 && epoch > 0 && epoch % decayEvery === 0) {
      await trainer.setLearningRate(trainer.learningRate * schedule.decayFactor);
    }
    // This epoch's samples: the same draw for baseline and freeze of a seed.
    shuffleInPlace(order, random);
    const ids = order.slice(0, job.samplesPerEpoch);
    const indices = tf.tensor1d(ids, 'int32');
    const [xs, ys] = [tf.gather(train.xs, indices), tf.gather(train.ys, indices)];
    const start = performance.now();
    await trainer.fit(xs, ys, { epochs: epoch + 1, initialEpoch: epoch, batchSize: job.batchSize, shuffleSeed: job.seed * 1000 + epoch, sampleIds: ids });
    trainingMs += performance.now() - start;
    tf.dispose([indices, xs, ys]);
    const { acc } = await trainer.evaluate(test.xs, test.ys, { batchSize: 512 });
    points.push({ epoch: epoch + 1, seconds: trainingMs / 1000, testAccuracy: acc!, frozenPrefix: trainer.frozenPrefix, learningRate: trainer.learningRate });
  }
  const stepMsMedian = trainer.stats().phases.step!.p50Us / 1000;
  const report = plugin?.report() ?? null;
  await trainer.dispose();
  return { ...job, points, finalAccuracy: points.at(-1)!.testAccuracy, stepMsMedian, freezes, unfreezes, report };
}

/** Runs a job as a child process; resolves to its result (the child's last JSON line). */
function spawnJob(job: Job): Promise<JobResult> {
  return runJsonChild<JobResult>(process.execPath, benchChildArgs('freeze', ['--job', JSON.stringify(job)]));
}

export async function runFreezeBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      job: { type: 'string' },
      backend: { type: 'string', default: 'auto' },
      // wasm threads per run: with two runs side by side, one each (one per core).
      threads: { type: 'string', default: '1' },
      models: { type: 'string', default: 'cnn,resnet' },
      schedules: { type: 'string', default: 'sgd-step,adam' },
      seeds: { type: 'string', default: '3' },
      // The first seed; with --seeds N the run takes seeds first … first + N − 1 (to repeat one seed).
      'first-seed': { type: 'string', default: '1' },
      epochs: { type: 'string', default: '15' },
      'samples-per-epoch': { type: 'string', default: 'cnn:4096,resnet:2048,mlp:8192' },
      'test-samples': { type: 'string', default: '2000' },
      'batch-size': { type: 'string', default: '64' },
      parallel: { type: 'string', default: '2' },
      'target-drop': { type: 'string', default: '0.3' },
      'freeze-options': { type: 'string', default: '{}' },
      // Overrides the step schedule's decay period (sgd-step: ×0.1 every 10 epochs), e.g. a longer
      // high-rate phase: --epochs 20 --decay-every 15.
      'decay-every': { type: 'string' },
    },
  });
  if (values.job) {
    const result = await runJob(JSON.parse(values.job as string) as Job);
    process.stdout.write(`\n${JSON.stringify(result)}\n`);
    return;
  }
  const samples = parseModelNumbers(values['samples-per-epoch'] as string);
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + Number(values['first-seed']));
  const parallel = Number(values.parallel);
  const dataArgs = argv.filter((arg, i) => arg === '--full' || arg.startsWith('--data-dir') || argv[i - 1] === '--data-dir');
  const outputName = `freeze-${(values.models as string).replaceAll(',', '-')}-${(values.schedules as string).replaceAll(',', '-')}`;
  mkdirSync('.bench-out', { recursive: true });
  const results: JobResult[] = [];
  const summary: Array<Record<string, unknown>> = [];
  const save = () => writeResult(outputName, { benchmark: 'freeze', options: values, parallel, results, summary });

  for (const model of (values.models as string).split(',') as ModelName[]) {
    for (const schedule of (values.schedules as string).split(',') as ScheduleName[]) {
      if (!(schedule in SCHEDULES)) throw new Error(`unknown schedule ${schedule}; choose from ${Object.keys(SCHEDULES).join(', ')}`);
      const pairs: Array<{ seed: number; baseline: JobResult; freeze: JobResult }> = [];
      for (const seed of seeds) {
        const jobs = (['baseline', 'freeze'] as const).map(
          (config): Job => ({
            model,
            schedule,
            config,
            seed,
            epochs: Number(values.epochs),
            samplesPerEpoch: samples[model] ?? 4096,
            testSamples: Number(values['test-samples']),
            batchSize: Number(values['batch-size']),
            backend: values.backend as string,
            threads: Number(values.threads),
            dataArgs,
            freezeOptions: JSON.parse(values['freeze-options'] as string) as Record<string, unknown>,
            ...(values['decay-every'] !== undefined && SCHEDULES[schedule].decayEvery > 0 ? { decayEvery: Number(values['decay-every']) } : {}),
          }),
        );
        // Side by side (one per core) or one after the other, alternating which goes first.
        const ordered = seed % 2 ? jobs : [...jobs].reverse();
        const finished = parallel >= 2 ? await Promise.all(ordered.map(spawnJob)) : await sequential(ordered);
        const baseline = finished.find((run) => run.config === 'baseline')!;
        const freeze = finished.find((run) => run.config === 'freeze')!;
        results.push(baseline, freeze);
        pairs.push({ seed, baseline, freeze });
        for (const run of [baseline, freeze]) {
          console.log(
            `${model} ${schedule} seed ${seed} ${run.config}: final acc ${run.finalAccuracy.toFixed(4)}, ${run.points.at(-1)!.seconds.toFixed(0)} s, ` +
              `step p50 ${run.stepMsMedian.toFixed(1)} ms${run.freezes.length ? `, froze ${run.freezes.map((f) => `${f.index}@ep${f.epoch + 1}`).join(' ')}, unfroze ${run.unfreezes}` : ''}`,
          );
        }
        save();
      }
      summary.push(summarise(model, schedule, pairs, Number(values['target-drop']) / 100));
      save();
    }
  }
  printTable(summary, values, parallel, outputName);
}

async function sequential(jobs: Job[]): Promise<JobResult[]> {
  const results: JobResult[] = [];
  for (const job of jobs) results.push(await spawnJob(job));
  return results;
}

function summarise(model: string, schedule: string, pairs: Array<{ seed: number; baseline: JobResult; freeze: JobResult }>, targetDrop: number) {
  const speedups = pairs.map(({ baseline, freeze }) => {
    const target = baseline.finalAccuracy - targetDrop;
    const [base, frozen] = [timeToAccuracy(baseline.points, target), timeToAccuracy(freeze.points, target)];
    return base !== null && frozen !== null ? base / frozen : null;
  });
  return {
    model,
    schedule,
    seeds: pairs.length,
    speedups,
    speedupMedian: medianSpeedup(speedups),
    baselineAccuracy: median(pairs.map((p) => p.baseline.finalAccuracy)),
    freezeAccuracy: median(pairs.map((p) => p.freeze.finalAccuracy)),
    accuracyDeltaPoints: median(pairs.map((p) => (p.freeze.finalAccuracy - p.baseline.finalAccuracy) * 100)),
    totalTimeRatio: median(pairs.map((p) => p.baseline.points.at(-1)!.seconds / p.freeze.points.at(-1)!.seconds)),
    freezeEpochs: pairs.map((p) => p.freeze.freezes.map((f) => `${f.index}@${f.epoch + 1}`).join(' ') || '–'),
    overheadMsPerStep: median(pairs.map((p) => p.freeze.report!.mainThreadMsPerStep)),
    overheadShare: median(pairs.map((p) => p.freeze.report!.mainThreadMsPerStep / p.baseline.stepMsMedian)),
    evaluationMs: median(pairs.map((p) => p.freeze.report!.medianEvaluationMs)),
  };
}

function printTable(summary: Array<Record<string, any>>, values: Record<string, unknown>, parallel: number, outputName: string): void {
  console.log(`\n| model | schedule | seeds | time to baseline acc − ${values['target-drop']} pt: speedup median (per seed) | final acc baseline → freeze (median) | Δ acc (pt) | total time ratio | units frozen (unit@epoch, per seed) | main-thread overhead per step |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of summary) {
    const perSeed = (row.speedups as Array<number | null>).map((s) => (s === null ? 'missed' : `${s.toFixed(2)}×`)).join(', ');
    console.log(
      `| ${row.model} | ${row.schedule} | ${row.seeds} | ${row.speedupMedian === null ? 'missed' : `${row.speedupMedian.toFixed(2)}×`} (${perSeed}) | ` +
        `${row.baselineAccuracy.toFixed(4)} → ${row.freezeAccuracy.toFixed(4)} | ${row.accuracyDeltaPoints >= 0 ? '+' : ''}${row.accuracyDeltaPoints.toFixed(2)} | ` +
        `${row.totalTimeRatio.toFixed(2)}× | ${(row.freezeEpochs as string[]).join('; ')} | ${row.overheadMsPerStep.toFixed(2)} ms (${(row.overheadShare * 100).toFixed(2)} %) |`,
    );
  }
  const decay = values['decay-every'] !== undefined ? `, step schedules decayed ×0.1 every ${values['decay-every']} epochs` : '';
  console.log(`\n${parallel >= 2 ? 'baseline and freeze side by side, one process per core' : 'one run at a time'}, ${values.threads} wasm thread(s) per run${decay}; raw: .bench-out/${outputName}.json`);
}
