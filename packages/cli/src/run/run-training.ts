// One run in this process: build the workload, stack the plugins, train epoch by epoch (test accuracy
// after each epoch, or evalsPerEpoch times in it, off the clock), and return everything a report needs.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer, restoreTrainer, type PluginDescription, type SeededRandom, type Trainer, type TrainerPlugin } from '@trainhooks/core-hooks/internal';
import { createPlugin } from '../plugins/plugin-registry.js';
import type { EpochPoint, RunListener } from './run-events.js';
import { configurationLabel, type OptimizerName, type RunSpec } from './run-spec.js';
import { SIGNAL_EXIT_CODES, type StopSignal } from './stop-signals.js';
import { Stopwatch } from './stopwatch.js';
import { WorkMeter, type FrozenPrefixChange, type WorkTotals } from './work-meter.js';
import { RunProgress } from './run-progress.js';
import { useSeededMathRandom } from './seeded-math-random.js';
import { loadWorkload, pretrainedUnitsOption } from './workload.js';

export interface RunResult {
  readonly configuration: string;
  readonly spec: RunSpec;
  /** What setupBackend chose: 'wasm', 'cpu', 'node', 'node-gpu'. */
  readonly backend: string;
  /** Threads it computed with (wasm's pool; null: tfjs-node manages its own). */
  readonly threads: number | null;
  readonly dataSource: string;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly points: EpochPoint[];
  readonly finalAccuracy: number;
  readonly trainingSeconds: number;
  readonly samplesPerSecond: number;
  readonly stepMsMedian: number;
  readonly work: WorkTotals;
  readonly frozenPrefixChanges: readonly FrozenPrefixChange[];
  readonly unitNames: readonly string[];
  /** Each plugin's report(), by the name it was given (null: it has none). */
  readonly pluginReports: Record<string, unknown>;
  /** Each plugin's describe() (null: it says nothing about how it speeds training). */
  readonly pluginDescriptions: Record<string, PluginDescription | null>;
}

const OPTIMIZERS: Record<OptimizerName, (learningRate: number) => tf.Optimizer> = {
  adam: (lr) => tf.train.adam(lr),
  sgd: (lr) => tf.train.sgd(lr),
  momentum: (lr) => tf.train.momentum(lr, 0.9),
  rmsprop: (lr) => tf.train.rmsprop(lr),
};

/** Minimum time between two 'step' events: enough for a smooth bar, cheap for a child's stdout. */
const STEP_EVENT_INTERVAL_MS = 100;

/** One training run; Math.random is seeded with `spec.seed` while it runs (seeded-math-random.ts). */
export async function runTraining(spec: RunSpec, listen: RunListener = () => {}): Promise<RunResult> {
  const mathRandom = useSeededMathRandom(spec.seed);
  const interruption = spec.checkpoint ? listenForInterruption() : null;
  try {
    return await train(spec, listen, mathRandom.generator, interruption);
  } finally {
    interruption?.stopListening();
    mathRandom.restore();
  }
}

/** With checkpoints on, SIGINT and SIGTERM end the run at the next step, after a checkpoint; the same signal again ends it at once. */
function listenForInterruption(): { readonly signal: () => StopSignal | null; stopListening(): void } {
  let received: StopSignal | null = null;
  const onSignal = (signal: StopSignal) => {
    if (received === null) received = signal;
    // The parent passes a terminal's Ctrl-C on as SIGTERM: only the same signal again quits at once.
    else if (signal === received) process.exit(SIGNAL_EXIT_CODES[signal]);
  };
  for (const signal of Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]) process.on(signal, onSignal);
  return {
    signal: () => received,
    stopListening: () => {
      for (const signal of Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]) process.removeListener(signal, onSignal);
    },
  };
}

/** The run ended at a signal, after writing a checkpoint to resume from. */
export class RunStoppedBySignal extends Error {
  constructor(
    readonly signal: StopSignal,
    readonly step: number,
    readonly checkpoint: string,
  ) {
    super(`stopped by ${signal} after step ${step}; checkpoint: ${checkpoint} (continue with --resume ${checkpoint})`);
  }
}

async function train(spec: RunSpec, listen: RunListener, mathRandom: SeededRandom, interruption: ReturnType<typeof listenForInterruption> | null): Promise<RunResult> {
  const backend = await setupBackend(spec.backend as BackendChoice, {
    ...(spec.threads !== undefined ? { threads: spec.threads } : {}),
    log: (message) => listen({ type: 'log', message }),
    warn: (message) => listen({ type: 'log', message }),
  });
  const workload = await loadWorkload(spec);
  const { model, train, test } = workload;
  const trainerOptions = { optimizer: OPTIMIZERS[spec.optimizer](spec.learningRate), loss: 'categoricalCrossentropy' as const, metrics: ['accuracy'], ...pretrainedUnitsOption(spec) };
  const stopwatch = new Stopwatch();
  const meter = new WorkMeter(model, () => stopwatch.seconds);
  const progress = new RunProgress(spec.seed, mathRandom);
  const plugins = new Map<string, TrainerPlugin>();
  let trainer: Trainer | null = null;
  try {
    for (const name of spec.plugins) {
      const plugin = await createPlugin(name, spec.pluginOptions[name] ?? {}, { probe: workload.probe, probeLabels: workload.probeLabels, seed: spec.seed, threads: backend.threads ?? spec.threads ?? availableParallelism() });
      plugins.set(name, plugin);
    }
    const attached = [...plugins.values(), meter, progress];
    if (spec.resume) {
      trainer = await restoreTrainer(spec.resume, model, attached, trainerOptions);
      stopwatch.add(progress.seconds);
      listen({ type: 'log', message: `resumed from ${spec.resume} at step ${trainer.globalStep} (epoch ${progress.epoch + 1}, batch ${progress.batchesDone})` });
    } else {
      trainer = createTrainer(model, trainerOptions);
      for (const plugin of attached) trainer.use(plugin);
    }
    const run = trainer;
    run.events.on('cacheHit', () => void progress.cacheHits++);
    run.events.on('cacheMiss', () => void progress.cacheMisses++);
    const checkpoint = spec.checkpoint ?? null;
    const saveCheckpoint = async () => {
      stopwatch.pause();
      progress.seconds = stopwatch.seconds;
      await run.save(checkpoint!.dir);
      listen({ type: 'log', message: `checkpoint: ${checkpoint!.dir} (step ${run.globalStep})` });
      stopwatch.start();
    };

    const samples = train.ids.length;
    const stepsPerEpoch = Math.ceil(samples / spec.batchSize);
    // Test evaluations per epoch, at even step intervals (the last at the epoch's end).
    const evalInterval = Math.ceil(stepsPerEpoch / Math.min(spec.evalsPerEpoch ?? 1, stepsPerEpoch));
    listen({ type: 'start', epochs: spec.epochs, stepsPerEpoch, backend: backend.choice, dataSource: workload.dataSource });
    const evaluate = async (epochs: number) => {
      stopwatch.pause();
      const evaluation = await run.evaluate(test.xs, test.ys, { batchSize: 512 });
      const seconds = stopwatch.seconds;
      const point: EpochPoint = {
        epoch: epochs,
        seconds,
        testAccuracy: evaluation.acc ?? NaN,
        testLoss: evaluation.loss ?? NaN,
        trainLoss: progress.interval.lossSum / Math.max(1, progress.interval.steps),
        frozenPrefix: run.frozenPrefix,
        learningRate: run.learningRate,
        samplesPerSecond: progress.interval.samples / Math.max(1e-9, seconds - progress.interval.startSeconds),
        cacheHitRate: progress.cacheHits + progress.cacheMisses > 0 ? progress.cacheHits / (progress.cacheHits + progress.cacheMisses) : null,
      };
      progress.points.push(point);
      listen({ type: 'epoch', point });
      progress.interval = { steps: 0, samples: 0, lossSum: 0, startSeconds: seconds };
      [progress.cacheHits, progress.cacheMisses] = [0, 0];
    };

    for (let epoch = progress.epoch; epoch < spec.epochs; epoch++) {
      // Batches already done of this epoch: only a resumed epoch has any (each epoch's end resets the
      // count). It has its learning rate and shuffle already: they are in the checkpoint.
      const resumedBatches = progress.batchesDone;
      const schedule = spec.lrSchedule;
      if (resumedBatches === 0 && schedule && epoch > 0 && epoch % schedule.everyEpochs === 0) await run.setLearningRate(run.learningRate * schedule.factor);
      let lastEvent = 0;
      const callbacks = {
        onBatchEnd: async (batch: number, logs?: Record<string, number>) => {
          progress.epoch = epoch;
          progress.batchesDone = batch + 1;
          const interval = progress.interval;
          interval.steps++;
          interval.samples += logs?.size ?? spec.batchSize;
          interval.lossSum += logs?.loss ?? 0;
          const now = performance.now();
          if (now - lastEvent >= STEP_EVENT_INTERVAL_MS || batch + 1 === stepsPerEpoch) {
            lastEvent = now;
            listen({ type: 'step', epoch: epoch + 1, step: batch + 1, steps: stepsPerEpoch, loss: logs?.loss ?? NaN });
          }
          if ((batch + 1) % evalInterval === 0 && batch + 1 < stepsPerEpoch) {
            await evaluate(epoch + (batch + 1) / stepsPerEpoch);
            stopwatch.start();
          }
          const scheduled = checkpoint?.every && run.globalStep % checkpoint.every === 0;
          if (checkpoint && (scheduled || interruption?.signal())) await saveCheckpoint();
          if (interruption?.signal()) run.stopTraining = true;
        },
      };
      if (resumedBatches < stepsPerEpoch) {
        stopwatch.start();
        await run.fit(train.xs, train.ys, {
          epochs: epoch + 1,
          initialEpoch: epoch,
          batchSize: spec.batchSize,
          // A resumed epoch continues its saved shuffle: no new seed is drawn for it.
          shuffleSeed: resumedBatches > 0 ? 0 : Math.floor(progress.shuffleSeeds.next() * 2 ** 31),
          sampleIds: train.ids,
          callbacks,
        });
      }
      const signal = interruption?.signal();
      if (signal) throw new RunStoppedBySignal(signal, run.globalStep, checkpoint!.dir);
      await evaluate(epoch + 1);
      progress.epoch = epoch + 1;
      progress.batchesDone = 0;
    }
    if (checkpoint) await saveCheckpoint();
    const trainingSeconds = stopwatch.seconds;
    return {
      configuration: configurationLabel(spec.plugins),
      spec,
      backend: backend.choice,
      threads: backend.threads,
      dataSource: workload.dataSource,
      trainSamples: samples,
      testSamples: test.xs.shape[0]!,
      points: progress.points,
      finalAccuracy: progress.points.at(-1)?.testAccuracy ?? NaN,
      trainingSeconds,
      samplesPerSecond: (samples * spec.epochs) / trainingSeconds,
      stepMsMedian: (run.stats().phases.step?.p50Us ?? NaN) / 1000,
      work: meter.work,
      frozenPrefixChanges: meter.frozenPrefixChanges,
      unitNames: run.units.map((unit) => unit.name),
      pluginReports: Object.fromEntries([...plugins].map(([name, plugin]) => [name, plugin.report?.() ?? null])),
      pluginDescriptions: Object.fromEntries([...plugins].map(([name, plugin]) => [name, plugin.describe?.() ?? null])),
    };
  } finally {
    await trainer?.dispose();
    workload.dispose();
    model.dispose();
  }
}
