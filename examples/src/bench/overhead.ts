// Hook-bus overhead: the trainer with no plugins against a hand-written tf.variableGrads loop on `mlp`,
// same data, same batches, same backend, interleaved rounds so drift hits both alike — and the same
// optimizer on every side: plain SGD, which the trainer runs as one shared tfjs optimizer like the
// hand-written loop does (with Adam it would run its own per-variable store, and this would measure
// the optimizer, not the bus).
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer, runUnits, unitsFromLayersModel } from '@trainhooks/core-hooks';
import { createModel, loadFashionMnist, toTensors } from '@trainhooks/cli';
import { median, writeResult } from './stats.js';

type Batch = { x: tf.Tensor; y: tf.Tensor };

/**
 * The loop people write by hand: one optimizer, one variableGrads over all trainable weights, and the
 * compiled model's loss function.
 */
function handWrittenStep(forward: (x: tf.Tensor) => tf.Tensor, model: tfl.LayersModel, optimizer: tf.Optimizer) {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return async (batch: Batch): Promise<number> => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tfl.metrics.categoricalCrossentropy(batch.y, forward(batch.x))) as tf.Scalar,
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

/** Plain SGD on every side: the same tfjs update kernel, so only the step around it differs. */
const LEARNING_RATE = 0.01;

const HAND = 'hand-written loop, model.apply';
const HAND_UNITS = 'hand-written loop, same layer calls as the trainer';
const TRAINER = 'trainer, no plugins';

/** The trainer's forward without the trainer: its units applied in order. */
function unitsForward(model: tfl.LayersModel) {
  const units = unitsFromLayersModel(model);
  return (x: tf.Tensor) => runUnits(units, 0, units.length, x, { training: true });
}

interface Comparison {
  model: string;
  medianStepMs: { handWritten: number; handWrittenOverUnits: number; trainer: number };
  roundsMs: Record<string, number[]>;
  overheadPercent: number;
  overheadUs: number;
  lastLoss: Record<string, number>;
}

/** Interleaved rounds of the same batches through both loops; medians of the per-round step means. */
async function compare(label: string, makeModel: () => tfl.LayersModel, batches: Batch[], rounds: number): Promise<Comparison> {
  // No metrics: the hand-written loops compute none either (fit() would add the compiled accuracy).
  const trainer = createTrainer(makeModel(), { optimizer: tf.train.sgd(LEARNING_RATE), metrics: [] });
  const handModel = makeModel();
  const unitsModel = makeModel();
  const variants: Record<string, (batch: Batch) => Promise<number>> = {
    [HAND]: handWrittenStep((x) => handModel.apply(x, { training: true }) as tf.Tensor, handModel, tf.train.sgd(LEARNING_RATE)),
    [HAND_UNITS]: handWrittenStep(unitsForward(unitsModel), unitsModel, tf.train.sgd(LEARNING_RATE)),
    [TRAINER]: async (batch) => (await trainer.step(batch)).loss!,
  };
  const roundsMs: Record<string, number[]> = {};
  const lastLoss: Record<string, number> = {};
  // Warm-up: kernels, optimizer slots, JIT.
  for (const step of Object.values(variants)) for (const batch of batches.slice(0, 2)) await step(batch);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? Object.entries(variants) : Object.entries(variants).reverse();
    for (const [name, step] of order) {
      const start = performance.now();
      for (const batch of batches) lastLoss[name] = await step(batch);
      (roundsMs[name] ??= []).push((performance.now() - start) / batches.length);
    }
  }
  const hand = median(roundsMs[HAND]!);
  const handUnits = median(roundsMs[HAND_UNITS]!);
  const ours = median(roundsMs[TRAINER]!);
  return {
    model: label,
    medianStepMs: { handWritten: hand, handWrittenOverUnits: handUnits, trainer: ours },
    roundsMs,
    // Against the same layer calls without the bus: what the hooks, context, telemetry and
    // per-variable optimizer state cost.
    overheadPercent: ((ours - handUnits) / handUnits) * 100,
    overheadUs: (ours - handUnits) * 1000,
    lastLoss,
  };
}

/** 784 → 10 softmax: so little compute that the per-step cost of the bus itself shows, in µs. */
function createLogisticModel(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ inputShape: [784], units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

export async function runOverheadBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'auto' },
      // wasm threads: 1 is how the published figures were measured (see BENCHMARKS.md).
      threads: { type: 'string', default: '1' },
      'batch-size': { type: 'string', default: '64' },
      rounds: { type: 'string', default: '7' },
      steps: { type: 'string', default: '20' },
    },
  });
  const backend = await setupBackend(values.backend as BackendChoice, { threads: Number(values.threads) });
  const batchSize = Number(values['batch-size']);
  const rounds = Number(values.rounds);
  const stepsPerRound = Number(values.steps);

  const set = loadFashionMnist({ split: 'train', limit: batchSize * stepsPerRound });
  const data = toTensors(set, { flatten: true });
  const batches: Batch[] = Array.from({ length: stepsPerRound }, (_, i) => ({
    x: tf.slice(data.xs, i * batchSize, batchSize),
    y: tf.slice(data.ys, i * batchSize, batchSize),
  }));

  const comparisons = [
    await compare('mlp', () => createModel('mlp', { seed: 1 }), batches, rounds),
    await compare('logistic 784→10', createLogisticModel, batches, rounds),
  ];
  const path = writeResult('overhead', { benchmark: 'overhead', backend: backend.choice, batchSize, rounds, stepsPerRound, comparisons });
  console.log(`\n| model | ${HAND} (ms/step) | ${HAND_UNITS} (ms/step) | ${TRAINER} (ms/step) | overhead vs same layer calls | last losses |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const c of comparisons) {
    const losses = [HAND, HAND_UNITS, TRAINER].map((name) => c.lastLoss[name]!.toFixed(4)).join(' / ');
    const ms = c.medianStepMs;
    console.log(
      `| ${c.model} | ${ms.handWritten.toFixed(2)} | ${ms.handWrittenOverUnits.toFixed(2)} | ${ms.trainer.toFixed(2)} | ` +
        `${c.overheadPercent.toFixed(2)} % (${c.overheadUs.toFixed(0)} µs) | ${losses} |`,
    );
  }
  console.log(`\nbackend ${backend.choice}, batch ${batchSize}, median of ${rounds} interleaved rounds × ${stepsPerRound} steps; raw: ${path}`);
  tf.dispose([data.xs, data.ys, ...batches.flatMap((b) => [b.x, b.y])]);
}
