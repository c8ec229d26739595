// One run in this process: build the workload, stack the plugins, train epoch by epoch (test accuracy
// after each epoch, or evalsPerEpoch times in it, off the clock), and return everything a report needs.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer, SeededRandom, type PluginDescription, type TrainerPlugin } from '@trainhooks/core-hooks/internal';
import { createPlugin } from '../plugins/plugin-registry.js';
import type { EpochPoint, RunListener } from './run-events.js';
import { configurationLabel, type OptimizerName, type RunSpec } from './run-spec.js';
import { Stopwatch } from './stopwatch.js';
import { WorkMeter, type FrozenPrefixChange, type WorkTotals } from './work-meter.js';
import { seedMathRandom } from './seeded-math-random.js';
import { loadWorkload } from './workload.js';

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
  const restoreMathRandom = seedMathRandom(spec.seed);
  try {
    return await train(spec, listen);
  } finally {
    restoreMathRandom();
  }
}

async function train(spec: RunSpec, listen: RunListener): Promise<RunResult> {
  const backend = await setupBackend(spec.backend as BackendChoice, {
    ...(spec.threads !== undefined ? { threads: spec.threads } : {}),
    log: (message) => listen({ type: 'log', message }),
    warn: (message) => listen({ type: 'log', message }),
  });
  const workload = await loadWorkload(spec);
  const { model, train, test } = workload;
  const trainer = createTrainer(model, { optimizer: OPTIMIZERS[spec.optimizer](spec.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const stopwatch = new Stopwatch();
  const meter = new WorkMeter(model, () => stopwatch.seconds);
  const plugins = new Map<string, TrainerPlugin>();
  try {
    for (const name of spec.plugins) {
      const plugin = await createPlugin(name, spec.pluginOptions[name] ?? {}, { probe: workload.probe, probeLabels: workload.probeLabels, seed: spec.seed, threads: backend.threads ?? spec.threads ?? availableParallelism() });
      plugins.set(name, plugin);
      trainer.use(plugin);
    }
    trainer.use(meter);
    let cacheHits = 0;
    let cacheMisses = 0;
    trainer.events.on('cacheHit', () => void cacheHits++);
    trainer.events.on('cacheMiss', () => void cacheMisses++);

    const samples = train.ids.length;
    const stepsPerEpoch = Math.ceil(samples / spec.batchSize);
    // Test evaluations per epoch, at even step intervals (the last at the epoch's end).
    const evalInterval = Math.ceil(stepsPerEpoch / Math.min(spec.evalsPerEpoch ?? 1, stepsPerEpoch));
    listen({ type: 'start', epochs: spec.epochs, stepsPerEpoch, backend: backend.choice, dataSource: workload.dataSource });
    const points: EpochPoint[] = [];
    const random = new SeededRandom(spec.seed);
    // What happened since the last evaluation.
    let interval = { steps: 0, samples: 0, lossSum: 0, startSeconds: 0 };
    const evaluate = async (epochs: number) => {
      stopwatch.pause();
      const evaluation = await trainer.evaluate(test.xs, test.ys, { batchSize: 512 });
      const seconds = stopwatch.seconds;
      const point: EpochPoint = {
        epoch: epochs,
        seconds,
        testAccuracy: evaluation.acc ?? NaN,
        testLoss: evaluation.loss ?? NaN,
        trainLoss: interval.lossSum / Math.max(1, interval.steps),
        frozenPrefix: trainer.frozenPrefix,
        learningRate: trainer.learningRate,
        samplesPerSecond: interval.samples / Math.max(1e-9, seconds - interval.startSeconds),
        cacheHitRate: cacheHits + cacheMisses > 0 ? cacheHits / (cacheHits + cacheMisses) : null,
      };
      points.push(point);
      listen({ type: 'epoch', point });
      interval = { steps: 0, samples: 0, lossSum: 0, startSeconds: seconds };
      [cacheHits, cacheMisses] = [0, 0];
    };

    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const schedule = spec.lrSchedule;
      if (schedule && epoch > 0 && epoch % schedule.everyEpochs === 0) await trainer.setLearningRate(trainer.learningRate * schedule.factor);
      let lastEvent = 0;
      const callbacks = {
        onBatchEnd: async (batch: number, logs?: Record<string, number>) => {
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
        },
      };
      stopwatch.start();
      await trainer.fit(train.xs, train.ys, {
        epochs: epoch + 1,
        initialEpoch: epoch,
        batchSize: spec.batchSize,
        shuffleSeed: Math.floor(random.next() * 2 ** 31),
        sampleIds: train.ids,
        callbacks,
      });
      await evaluate(epoch + 1);
    }
    const trainingSeconds = stopwatch.seconds;
    return {
      configuration: configurationLabel(spec.plugins),
      spec,
      backend: backend.choice,
      threads: backend.threads,
      dataSource: workload.dataSource,
      trainSamples: samples,
      testSamples: test.xs.shape[0]!,
      points,
      finalAccuracy: points.at(-1)?.testAccuracy ?? NaN,
      trainingSeconds,
      samplesPerSecond: (samples * spec.epochs) / trainingSeconds,
      stepMsMedian: (trainer.stats().phases.step?.p50Us ?? NaN) / 1000,
      work: meter.work,
      frozenPrefixChanges: meter.frozenPrefixChanges,
      unitNames: trainer.units.map((unit) => unit.name),
      pluginReports: Object.fromEntries([...plugins].map(([name, plugin]) => [name, plugin.report?.() ?? null])),
      pluginDescriptions: Object.fromEntries([...plugins].map(([name, plugin]) => [name, plugin.describe?.() ?? null])),
    };
  } finally {
    await trainer.dispose();
    workload.dispose();
    model.dispose();
  }
}
