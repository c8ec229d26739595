// Hook-bus overhead: the trainer with no plugins against a hand-written tf.variableGrads loop on `mlp`,
// same data, same batches, same backend, interleaved rounds so drift hits both alike.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createTrainer, selectBackend, type BackendChoice } from '@trainhooks/core-hooks';
import { createModel, loadFashionMnist, toTensors } from '../index.js';
import { median, writeResult } from './stats.js';

type Batch = { x: tf.Tensor; y: tf.Tensor };

/**
 * The loop people write by hand: one optimizer, one variableGrads over all trainable weights, and the
 * compiled mlp's loss function.
 */
function handWrittenStep(model: tfl.LayersModel, optimizer: tf.Optimizer) {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return async (batch: Batch): Promise<number> => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tfl.metrics.categoricalCrossentropy(batch.y, model.apply(batch.x, { training: true }) as tf.Tensor)) as tf.Scalar,
        variables,
      );
      optimizer.applyGradients(grads);
      return value;
    });
    const value = (await loss.data())[0]!;
    loss.dispose();
    return value;
  };
}

export async function runOverheadBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'auto' },
      'batch-size': { type: 'string', default: '64' },
      rounds: { type: 'string', default: '5' },
      steps: { type: 'string', default: '20' },
    },
  });
  const backend = await selectBackend(values.backend as BackendChoice);
  const batchSize = Number(values['batch-size']);
  const rounds = Number(values.rounds);
  const stepsPerRound = Number(values.steps);

  const set = loadFashionMnist({ split: 'train', limit: batchSize * stepsPerRound });
  const data = toTensors(set, { flatten: true });
  const batches: Batch[] = Array.from({ length: stepsPerRound }, (_, i) => ({
    x: tf.slice(data.xs, i * batchSize, batchSize),
    y: tf.slice(data.ys, i * batchSize, batchSize),
  }));

  const trainerModel = createModel('mlp', { seed: 1 });
  const trainer = createTrainer(trainerModel);
  const handModel = createModel('mlp', { seed: 1 });
  const handStep = handWrittenStep(handModel, tf.train.adam(1e-3));
  const trainerStep = (batch: Batch) => trainer.step(batch);

  const variants = { 'hand-written variableGrads loop': handStep, 'trainer, no plugins': trainerStep } as const;
  const perStepMs: Record<string, number[]> = {};
  const lastLoss: Record<string, number> = {};
  // Warm-up: kernels, optimizer slots, JIT.
  for (const step of Object.values(variants)) for (const batch of batches.slice(0, 2)) await step(batch);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? Object.entries(variants) : Object.entries(variants).reverse();
    for (const [name, step] of order) {
      const start = performance.now();
      for (const batch of batches) lastLoss[name] = await step(batch);
      (perStepMs[name] ??= []).push((performance.now() - start) / batches.length);
    }
  }

  const hand = median(perStepMs['hand-written variableGrads loop']!);
  const ours = median(perStepMs['trainer, no plugins']!);
  const overheadPercent = ((ours - hand) / hand) * 100;
  const result = {
    benchmark: 'overhead',
    model: 'mlp',
    backend: backend.choice,
    batchSize,
    rounds,
    stepsPerRound,
    medianStepMs: { handWritten: hand, trainer: ours },
    roundsMs: perStepMs,
    overheadPercent,
    lastLoss,
    trainerPhasesUs: trainer.stats().phases,
  };
  const path = writeResult('overhead', result);
  console.log(`\n| variant | median step (ms) | last loss |`);
  console.log(`|---|---|---|`);
  for (const [name, values] of Object.entries(perStepMs)) {
    console.log(`| ${name} | ${median(values).toFixed(2)} | ${lastLoss[name]!.toFixed(4)} |`);
  }
  console.log(`\noverhead of the hook bus: ${overheadPercent.toFixed(2)} % of step time ` +
    `(backend ${backend.choice}, mlp, batch ${batchSize}, median of ${rounds} rounds × ${stepsPerRound} steps; raw: ${path})`);
  tf.dispose([data.xs, data.ys, ...batches.flatMap((b) => [b.x, b.y])]);
}
