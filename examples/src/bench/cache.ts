// The activation cache on real Fashion-MNIST: a fixed frozen prefix alone against the same prefix with
// the cache in memory and on disk, same data and seeds, one configuration at a time (rotated per
// repeat): `npm run bench -- cache --full`. Epoch 1 fills the cache; epochs 2+ are the steady state.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer, HookStage, runUnits, type Trainer } from '@trainhooks/core-hooks';
import { actCachePlugin, type ActCacheOptions, type ActCacheStats } from '@trainhooks/plugin-act-cache';
import { createModel, loadFashionMnist, MODEL_INPUT_LAYOUT, parseDataArgs, toTensors, type ModelName } from '@trainhooks/cli/internal';
import { median, parseModelNumbers, writeResult } from './stats.js';

const CONFIGS: Record<string, Partial<ActCacheOptions> | null> = {
  prefix: null,
  memory: { store: 'memory' },
  disk: { store: 'disk' },
  'disk-fp16': { store: 'disk', precision: 'fp16' },
};

interface Run {
  readonly model: string;
  readonly config: string;
  readonly repeat: number;
  readonly prefix: number;
  readonly epochSeconds: number[];
  readonly steadyEpochSeconds: number;
  readonly stepMsMedian: number;
  readonly stats: ActCacheStats | null;
}

/** Inference time of units [0, prefix) over all units, on one batch: the share of the forward a hit skips. */
function prefixShare(trainer: Trainer, x: tf.Tensor, prefix: number): number {
  const once = (to: number) => {
    const start = performance.now();
    // Read back outside the tidy: on wasm a dataSync inside tf.tidy costs ~1 µs per element.
    const output = tf.tidy(() => runUnits(trainer.units, 0, to, x, { training: false }));
    output.dataSync();
    if (output !== x) output.dispose();
    return performance.now() - start;
  };
  once(prefix);
  once(trainer.units.length); // warm both paths up first
  const prefixTimes: number[] = [];
  const fullTimes: number[] = [];
  for (let i = 0; i < 9; i++) {
    prefixTimes.push(once(prefix));
    fullTimes.push(once(trainer.units.length));
  }
  return median(prefixTimes) / median(fullTimes);
}

async function runOnce(model: ModelName, config: string, repeat: number, prefix: number, data: { xs: tf.Tensor; ys: tf.Tensor; ids: Int32Array }, options: { epochs: number; batchSize: number }) {
  const trainer = createTrainer(createModel(model, { seed: repeat + 1 }));
  // A fixed frozen prefix from the first step: the user's own schedule, as the cache sees any.
  trainer.use({ apply: (t) => t.hooks.beforeForward.tap({ name: 'fixed prefix', stage: HookStage.FREEZE }, (context) => void (context.frozenPrefix = prefix)) });
  const cacheOptions = CONFIGS[config];
  const plugin = cacheOptions ? actCachePlugin({ deterministicInputs: true, ...cacheOptions }) : null;
  if (plugin) trainer.use(plugin);
  const epochSeconds: number[] = [];
  let epochStart = performance.now();
  await trainer.fit(data.xs, data.ys, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    shuffleSeed: repeat + 1,
    sampleIds: data.ids,
    callbacks: {
      onEpochBegin: () => void (epochStart = performance.now()),
      onEpochEnd: () => void epochSeconds.push((performance.now() - epochStart) / 1000),
    },
  });
  const run: Run = {
    model,
    config,
    repeat,
    prefix,
    epochSeconds,
    steadyEpochSeconds: median(epochSeconds.slice(1)),
    stepMsMedian: trainer.stats().phases.step!.p50Us / 1000,
    stats: plugin?.stats() ?? null,
  };
  await trainer.dispose();
  return run;
}

export async function runCacheBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      backend: { type: 'string', default: 'auto' },
      // wasm threads: 1 is how the published figures were measured (see BENCHMARKS.md).
      threads: { type: 'string', default: '1' },
      models: { type: 'string', default: 'cnn,resnet,mlp' },
      // Frozen units per model: cnn conv1–3, resnet stem + stage 1, mlp the first four dense layers.
      prefix: { type: 'string', default: 'cnn:3,resnet:4,mlp:4' },
      configs: { type: 'string', default: 'prefix,memory,disk' },
      samples: { type: 'string', default: 'cnn:8192,resnet:4096,mlp:16384' },
      epochs: { type: 'string', default: '3' },
      repeats: { type: 'string', default: '2' },
      'batch-size': { type: 'string', default: '64' },
    },
  });
  const backend = await setupBackend(values.backend as BackendChoice, { threads: Number(values.threads) });
  const source = parseDataArgs(argv);
  const prefixes = parseModelNumbers(values.prefix as string);
  const samples = parseModelNumbers(values.samples as string);
  const configs = (values.configs as string).split(',');
  const options = { epochs: Number(values.epochs), batchSize: Number(values['batch-size']) };
  const runs: Run[] = [];
  const summary: Array<Record<string, unknown>> = [];
  for (const model of (values.models as string).split(',') as ModelName[]) {
    const set = loadFashionMnist({ ...source, split: 'train', limit: samples[model] });
    const data = { ...toTensors(set, { flatten: MODEL_INPUT_LAYOUT[model] === 'flat' }), ids: set.ids };
    const prefix = prefixes[model]!;
    const probe = createTrainer(createModel(model, { seed: 1 }));
    const batch = tf.slice(data.xs, [0], [options.batchSize]);
    const share = prefixShare(probe, batch, prefix);
    batch.dispose();
    const modelRuns: Run[] = [];
    for (let repeat = 0; repeat < Number(values.repeats); repeat++) {
      // Rotate the order, so machine drift hits every configuration alike.
      const order = configs.map((_, i) => configs[(i + repeat) % configs.length]!);
      for (const config of order) {
        const run = await runOnce(model, config, repeat, prefix, data, options);
        runs.push(run);
        modelRuns.push(run);
        const stats = run.stats;
        console.log(
          `${model} prefix ${prefix} ${config} #${repeat + 1}: epochs ${run.epochSeconds.map((s) => s.toFixed(1)).join(' / ')} s` +
            (stats ? `, hit rate ${(stats.hitRate * 100).toFixed(1)} %, wait p99 ${((stats.wait?.p99Us ?? 0) / 1000).toFixed(2)} ms, memory ${(stats.memory.bytes / 2 ** 20).toFixed(0)} MiB, disk ${(stats.disk.bytes / 2 ** 20).toFixed(0)} MiB` : ''),
        );
        writeResult('cache', { benchmark: 'cache', backend: backend.choice, options: values, runs, summary });
      }
    }
    tf.dispose([data.xs, data.ys]);
    const baseline = median(modelRuns.filter((run) => run.config === 'prefix').map((run) => run.steadyEpochSeconds));
    for (const config of configs) {
      const of = modelRuns.filter((run) => run.config === config);
      const epoch = median(of.map((run) => run.steadyEpochSeconds));
      summary.push({
        model,
        prefix,
        prefixShare: share,
        config,
        steadyEpochSeconds: epoch,
        speedup: baseline / epoch,
        hitRate: of[0]!.stats ? median(of.map((run) => run.stats!.hitRate)) : null,
        waitP99OverStep: of[0]!.stats ? median(of.map((run) => (run.stats!.wait?.p99Us ?? 0) / 1000 / run.stepMsMedian)) : null,
        bytes: of[0]!.stats ? median(of.map((run) => run.stats!.memory.bytes + run.stats!.disk.bytes)) : null,
      });
    }
    writeResult('cache', { benchmark: 'cache', backend: backend.choice, options: values, runs, summary });
  }
  console.log('\n| model | frozen units (share of forward) | configuration | steady epoch (s, median) | speedup over the prefix alone | hit rate | row wait p99 / step p50 | bytes cached |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of summary as Array<Record<string, any>>) {
    console.log(
      `| ${row.model} | ${row.prefix} (${(row.prefixShare * 100).toFixed(0)} %) | ${row.config} | ${row.steadyEpochSeconds.toFixed(2)} | ${row.speedup.toFixed(2)}× | ` +
        `${row.hitRate === null ? '–' : `${(row.hitRate * 100).toFixed(1)} %`} | ${row.waitP99OverStep === null ? '–' : `${(row.waitP99OverStep * 100).toFixed(1)} %`} | ` +
        `${row.bytes === null ? '–' : `${(row.bytes / 2 ** 20).toFixed(0)} MiB`} |`,
    );
  }
  console.log(`\nbackend ${backend.choice}; ${values.epochs} epochs per run, epoch 1 fills the cache, steady = median of epochs 2+; raw: .bench-out/cache.json`);
}
