// The soak: a long run of `cnn` with freeze + act-cache + grad-prune and a checkpoint every N steps, to
// show that nothing accumulates — tensors, memory, checkpoint time. `npm run soak` runs the long one
// (3,000 steps) and prints what BENCHMARKS.md records; `test/examples/soak.test.ts` a short one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createTrainer } from '@trainhooks/core-hooks';
import { createModel, loadFashionMnist, toTensors } from '@trainhooks/cli';
import { actCachePlugin } from '@trainhooks/plugin-act-cache';
import { freezePlugin } from '@trainhooks/plugin-freeze';
import { gradPrunePlugin } from '@trainhooks/plugin-grad-prune';

export interface SoakOptions {
  readonly steps: number;
  readonly checkpointEvery: number;
  /** Training samples (the embedded subset's first N); the run cycles through them. */
  readonly samples: number;
  readonly batchSize: number;
}

export interface SoakResult {
  readonly steps: number;
  /** tf.memory().numTensors after each checkpoint (a step boundary). */
  readonly tensorsAtCheckpoints: number[];
  /** Resident set size (MiB) after each checkpoint. */
  readonly rssMiB: number[];
  readonly checkpointMs: number[];
  readonly frozenPrefix: number;
  readonly seconds: number;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const set = loadFashionMnist({ split: 'train', limit: options.samples });
  const { xs, ys } = toTensors(set);
  const dir = mkdtempSync(join(tmpdir(), 'trainhooks-soak-'));
  const model = createModel('cnn', { seed: 1 });
  // Seeded Dropout masks: the run is the same every time, so is the step where grad-prune first prunes (the
  // trainer then keeps momentum's state per variable: one set of slots more, once — not an accumulation).
  const trainer = createTrainer(model, { optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy', dropoutSeed: 1 })
    .use(freezePlugin({ evalEvery: 20, probeSize: 32, reference: 'main-thread' }))
    .use(actCachePlugin({ deterministicInputs: true, store: 'memory' }))
    .use(gradPrunePlugin({ seed: 1 }));
  const result = { tensorsAtCheckpoints: [] as number[], rssMiB: [] as number[], checkpointMs: [] as number[] };
  const stepsPerEpoch = Math.ceil(options.samples / options.batchSize);
  const start = performance.now();
  try {
    await trainer.fit(xs, ys, {
      epochs: Math.ceil(options.steps / stepsPerEpoch),
      batchSize: options.batchSize,
      shuffleSeed: 1,
      sampleIds: set.ids,
      callbacks: {
        onBatchEnd: async () => {
          if (trainer.globalStep % options.checkpointEvery === 0) {
            const saveStart = performance.now();
            await trainer.save(join(dir, 'checkpoint'));
            result.checkpointMs.push(performance.now() - saveStart);
            result.tensorsAtCheckpoints.push(tf.memory().numTensors);
            result.rssMiB.push(process.memoryUsage().rss / 2 ** 20);
          }
          if (trainer.globalStep >= options.steps) trainer.stopTraining = true;
        },
      },
    });
    return { steps: trainer.globalStep, ...result, frozenPrefix: trainer.frozenPrefix, seconds: (performance.now() - start) / 1000 };
  } finally {
    await trainer.dispose();
    tf.dispose([xs, ys]);
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
