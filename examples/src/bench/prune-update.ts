// The update phase with per-variable optimizer state (what a varying skip set needs) against the shared
// tfjs optimizer, for the same variables and gradients: `npm run bench -- prune-update`.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { ClonePerVariable, createTrainer, perVariableStore } from '@trainhooks/core-hooks/internal';
import { createModel, loadFashionMnist, MODEL_INPUT_LAYOUT, toTensors, type ModelName } from '@trainhooks/cli/internal';
import { median, writeResult } from './stats.js';

type Update = (gradients: tf.NamedTensorMap) => void;

const SHARED = 'shared tfjs optimizer';
const STORE = 'per-variable, the trainer\'s store';
const CLONES = 'per-variable, one tfjs optimizer each';

/** The optimizers the models train with: Adam (mlp), RMSProp (cnn's compiled one), momentum (resnet). */
const OPTIMIZERS = {
  adam: () => tf.train.adam(1e-3),
  rmsprop: () => tf.train.rmsprop(1e-3),
  momentum: () => tf.train.momentum(0.05, 0.9),
} as const;
type OptimizerName = keyof typeof OPTIMIZERS;

/** What the trainer keeps per variable for this optimizer (core-hooks' own choice). */
function trainerStore(optimizer: OptimizerName) {
  const template = OPTIMIZERS[optimizer]();
  try {
    return perVariableStore(template, OPTIMIZERS[optimizer]);
  } finally {
    template.dispose();
  }
}

interface Row {
  model: string;
  optimizer: OptimizerName;
  subset: string;
  variables: number;
  parameters: number;
  medianMs: Record<string, number>;
  ratioStoreToShared: number;
  ratioClonesToShared: number;
}

/** Real gradients of one batch, for all trainable variables of the model. */
function gradientsOf(name: ModelName, batchSize: number) {
  const model = createModel(name, { seed: 1 });
  const trainer = createTrainer(model);
  const set = loadFashionMnist({ split: 'train', limit: batchSize });
  const data = toTensors(set, { flatten: MODEL_INPUT_LAYOUT[name] === 'flat' });
  const variables = trainer.variables;
  const { grads } = tf.variableGrads(() => tf.mean(trainer.loss(data.ys, model.apply(data.xs, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
  tf.dispose([data.xs, data.ys]);
  return { variables, gradients: grads };
}

/** Interleaved rounds; each round applies the gradients `steps` times per variant, from warm state. */
function compare(variants: Record<string, Update>, gradients: tf.NamedTensorMap, rounds: number, steps: number) {
  const times: Record<string, number[]> = {};
  for (const update of Object.values(variants)) for (let i = 0; i < 3; i++) update(gradients);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? Object.entries(variants).reverse() : Object.entries(variants);
    for (const [name, update] of order) {
      const start = performance.now();
      for (let i = 0; i < steps; i++) update(gradients);
      (times[name] ??= []).push((performance.now() - start) / steps);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)]));
}

export async function runPruneUpdateBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'auto' },
      // wasm threads: 1 is how the published figures were measured (see BENCHMARKS.md).
      threads: { type: 'string', default: '1' },
      models: { type: 'string', default: 'mlp,cnn' },
      optimizers: { type: 'string', default: 'adam,rmsprop,momentum' },
      'batch-size': { type: 'string', default: '64' },
      rounds: { type: 'string', default: '9' },
      steps: { type: 'string', default: '10' },
    },
  });
  const backend = await setupBackend(values.backend as BackendChoice, { threads: Number(values.threads) });
  const rows: Row[] = [];
  for (const name of values.models!.split(',') as ModelName[]) {
    const { variables, gradients } = gradientsOf(name, Number(values['batch-size']));
    // All variables, and every other unit's worth (a typical pruned step), so the per-variable cost is
    // compared where the shared optimizer can also serve the set.
    const half = variables.filter((_, i) => Math.floor(i / 2) % 2 === 0);
    for (const optimizer of values.optimizers!.split(',') as OptimizerName[]) {
      for (const [subset, chosen] of [['all variables', variables], ['every other layer', half]] as const) {
        const chosenGradients = Object.fromEntries(chosen.map((v) => [v.name, gradients[v.name]!]));
        const shared = OPTIMIZERS[optimizer]();
        const store = trainerStore(optimizer);
        // Where the trainer's store is the clones (momentum), they are timed once.
        const clones = store instanceof ClonePerVariable ? null : new ClonePerVariable(OPTIMIZERS[optimizer]);
        const variants: Record<string, Update> = {
          [SHARED]: (g) => shared.applyGradients(g as unknown as Record<string, tf.Variable>),
          [STORE]: (g) => store.apply(g),
          ...(clones ? { [CLONES]: (g: tf.NamedTensorMap) => clones.apply(g) } : {}),
        };
        const medianMs = compare(variants, chosenGradients, Number(values.rounds), Number(values.steps));
        medianMs[CLONES] ??= medianMs[STORE]!;
        rows.push({
          model: name,
          optimizer,
          subset,
          variables: chosen.length,
          parameters: chosen.reduce((sum, v) => sum + v.size, 0),
          medianMs,
          ratioStoreToShared: medianMs[STORE]! / medianMs[SHARED]!,
          ratioClonesToShared: medianMs[CLONES]! / medianMs[SHARED]!,
        });
        shared.dispose();
        store.dispose();
        clones?.dispose();
      }
    }
    tf.dispose(Object.values(gradients));
  }
  const path = writeResult('prune-update', { benchmark: 'prune-update', options: values, backend: backend.choice, rows });
  console.log(`\n| model | optimizer | variables updated | parameters | ${SHARED} (ms) | ${STORE} (ms) | ${CLONES} (ms) | store / shared | clones / shared |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const ms = row.medianMs;
    console.log(
      `| ${row.model} | ${row.optimizer} | ${row.subset} (${row.variables}) | ${row.parameters} | ${ms[SHARED]!.toFixed(2)} | ${ms[STORE]!.toFixed(2)} | ` +
        `${ms[CLONES]!.toFixed(2)} | ${row.ratioStoreToShared.toFixed(3)}× | ${row.ratioClonesToShared.toFixed(3)}× |`,
    );
  }
  console.log(`\nbackend ${backend.choice}, median of ${values.rounds} interleaved rounds × ${values.steps} updates; raw: ${path}`);
}
