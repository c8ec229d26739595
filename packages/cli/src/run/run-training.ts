// One run in this process: build the workload, stack the plugins, train epoch by epoch (test accuracy
// after each, off the clock), and return everything a report needs.
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer, SeededRandom } from '@trainhooks/core-hooks';
import { PLUGIN_REGISTRY, type PluginInstance } from '../plugins/plugin-registry.js';
import type { EpochPoint, RunListener } from './run-events.js';
import { configurationLabel, type OptimizerName, type RunSpec } from './run-spec.js';
import { WorkMeter, type FrozenPrefixChange, type WorkTotals } from './work-meter.js';
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
  /** Each plugin's report() / stats(), by plugin name. */
  readonly pluginReports: Record<string, unknown>;
}

const OPTIMIZERS: Record<OptimizerName, (learningRate: number) => tf.Optimizer> = {
  adam: (lr) => tf.train.adam(lr),
  sgd: (lr) => tf.train.sgd(lr),
  momentum: (lr) => tf.train.momentum(lr, 0.9),
  rmsprop: (lr) => tf.train.rmsprop(lr),
};

/** Minimum time between two 'step' events: enough for a smooth bar, cheap for a child's stdout. */
const STEP_EVENT_INTERVAL_MS = 100;

export async function runTraining(spec: RunSpec, listen: RunListener = () => {}): Promise<RunResult> {
  const backend = await setupBackend(spec.backend as BackendChoice, {
    ...(spec.threads !== undefined ? { threads: spec.threads } : {}),
    log: (message) => listen({ type: 'log', message }),
    warn: (message) => listen({ type: 'log', message }),
  });
  const workload = await loadWorkload(spec);
  const { model, train, test } = workload;
  const trainer = createTrainer(model, { optimizer: OPTIMIZERS[spec.optimizer](spec.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  let trainingMs = 0;
  let epochStart = 0;
  let training = false;
  const clock = () => (trainingMs + (training ? performance.now() - epochStart : 0)) / 1000;

  const meter = new WorkMeter(model, clock);
  const plugins = new Map<string, PluginInstance>();
  try {
    for (const name of spec.plugins) {
      const instance = await PLUGIN_REGISTRY[name].create(spec.pluginOptions[name] ?? {}, { probe: workload.probe, seed: spec.seed });
      plugins.set(name, instance);
      trainer.use(instance.plugin);
    }
    trainer.use(meter);
    let cacheHits = 0;
    let cacheMisses = 0;
    trainer.events.on('cacheHit', () => void cacheHits++);
    trainer.events.on('cacheMiss', () => void cacheMisses++);

    const samples = train.ids.length;
    const stepsPerEpoch = Math.ceil(samples / spec.batchSize);
    listen({ type: 'start', epochs: spec.epochs, stepsPerEpoch, backend: backend.choice, dataSource: workload.dataSource });
    const points: EpochPoint[] = [];
    const random = new SeededRandom(spec.seed);
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const schedule = spec.lrSchedule;
      if (schedule && epoch > 0 && epoch % schedule.everyEpochs === 0) await trainer.setLearningRate(trainer.learningRate * schedule.factor);
      [cacheHits, cacheMisses] = [0, 0];
      let lossSum = 0;
      let lastEvent = 0;
      const callbacks = {
        onBatchEnd: (batch: number, logs?: Record<string, number>) => {
          lossSum += logs?.loss ?? 0;
          const now = performance.now();
          if (now - lastEvent >= STEP_EVENT_INTERVAL_MS || batch + 1 === stepsPerEpoch) {
            lastEvent = now;
            listen({ type: 'step', epoch: epoch + 1, step: batch + 1, steps: stepsPerEpoch, loss: logs?.loss ?? NaN });
          }
        },
      };
      training = true;
      epochStart = performance.now();
      await trainer.fit(train.xs, train.ys, {
        epochs: epoch + 1,
        initialEpoch: epoch,
        batchSize: spec.batchSize,
        shuffleSeed: Math.floor(random.next() * 2 ** 31),
        sampleIds: train.ids,
        callbacks,
      });
      const epochMs = performance.now() - epochStart;
      trainingMs += epochMs;
      training = false;
      const evaluation = await trainer.evaluate(test.xs, test.ys, { batchSize: 512 });
      const point: EpochPoint = {
        epoch: epoch + 1,
        seconds: trainingMs / 1000,
        testAccuracy: evaluation.acc ?? NaN,
        testLoss: evaluation.loss ?? NaN,
        trainLoss: lossSum / stepsPerEpoch,
        frozenPrefix: trainer.frozenPrefix,
        learningRate: trainer.learningRate,
        samplesPerSecond: samples / (epochMs / 1000),
        cacheHitRate: cacheHits + cacheMisses > 0 ? cacheHits / (cacheHits + cacheMisses) : null,
      };
      points.push(point);
      listen({ type: 'epoch', point });
    }
    const trainingSeconds = trainingMs / 1000;
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
      pluginReports: Object.fromEntries([...plugins].map(([name, instance]) => [name, instance.report()])),
    };
  } finally {
    await trainer.dispose();
    workload.dispose();
    model.dispose();
  }
}
