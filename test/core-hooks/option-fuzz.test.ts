// Seeded fuzz of every options object a user writes: the five plugin factories, createTrainer and fit.
// 1,000 objects, each one or two fields of a real option (or an unknown key) set to a value of the wrong
// type, NaN, ±Infinity, a negative, a huge number, an empty string or a nested object. Each either is
// accepted — and then trains two steps with every number it holds finite — or throws an error that names
// the option. Never a hang, a crash of the process, a non-Error throw, or weights that are not finite.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, type Trainer, type TrainerPlugin } from '@trainhooks/core-hooks';
import { SeededRandom } from '@trainhooks/core-hooks/internal';
import { actCachePlugin, DEFAULT_ACT_CACHE_OPTIONS } from '@trainhooks/plugin-act-cache';
import { DEFAULT_FREEZE_OPTIONS, freezePlugin } from '@trainhooks/plugin-freeze';
import { DEFAULT_GRAD_PRUNE_OPTIONS, gradPrunePlugin } from '@trainhooks/plugin-grad-prune';
import { DEFAULT_MPI_OPTIONS, resolveMpiOptions } from '@trainhooks/plugin-mpi';
import { DEFAULT_PIPELINE_OPTIONS, resolvePipelineOptions } from '@trainhooks/plugin-pipeline';
import { denseModel, toyData, useCpu } from './helpers.js';

const CASES = 1000;
const random = new SeededRandom(20261205);
const pick = <T,>(items: readonly T[]): T => items[Math.floor(random.next() * items.length)]!;

const BAD_VALUES: unknown[] = [NaN, Infinity, -Infinity, -1, -0.5, 0, 0.5, 1e12, 2 ** 53, '', 'x', '3', true, false, null, {}, [], [1], { nested: 1 }, () => 1, Symbol('s')];

interface Target {
  readonly name: string;
  readonly options: readonly string[];
  /** Throws for options it refuses; returns what trains with them (null: options of the run itself). */
  make(options: Record<string, unknown>): TrainerPlugin | null;
}

const TARGETS: Target[] = [
  { name: 'freezePlugin', options: Object.keys(DEFAULT_FREEZE_OPTIONS), make: (options) => freezePlugin({ reference: 'main-thread', ...options }) },
  { name: 'gradPrunePlugin', options: Object.keys(DEFAULT_GRAD_PRUNE_OPTIONS), make: (options) => gradPrunePlugin(options) },
  { name: 'actCachePlugin', options: ['deterministicInputs', ...Object.keys(DEFAULT_ACT_CACHE_OPTIONS)], make: (options) => actCachePlugin({ deterministicInputs: true, store: 'memory', ...options }) },
  // Checked, not run: a pipeline starts threads, mpi needs an MPI job.
  { name: 'pipelinePlugin', options: [...Object.keys(DEFAULT_PIPELINE_OPTIONS), 'threadsPerStage'], make: (options) => (resolvePipelineOptions(options), null) },
  { name: 'mpiPlugin', options: Object.keys(DEFAULT_MPI_OPTIONS), make: (options) => (resolveMpiOptions(options), null) },
  { name: 'createTrainer', options: ['optimizer', 'loss', 'metrics', 'units', 'strategy', 'onNonFiniteLoss'], make: () => null },
  { name: 'fit', options: ['epochs', 'batchSize', 'shuffle', 'shuffleSeed', 'validationSplit', 'validationData', 'callbacks', 'verbose', 'initialEpoch', 'sampleIds'], make: () => null },
];

function fuzzedOptions(target: Target): { options: Record<string, unknown>; keys: string[] } {
  const options: Record<string, unknown> = {};
  const keys: string[] = [];
  const fields = random.next() < 0.3 ? 2 : 1;
  for (let i = 0; i < fields; i++) {
    const key = random.next() < 0.1 ? `unknownOption${i}` : pick(target.options);
    options[key] = pick(BAD_VALUES);
    keys.push(key);
  }
  return { options, keys };
}

/** Every number in an accepted options object (nested too) must be finite: NaN or Infinity accepted is a silently wrong run. */
function nonFiniteNumbers(value: unknown, path = ''): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (value === null || typeof value !== 'object' || value instanceof tf.Tensor) return [];
  return Object.entries(value).flatMap(([key, entry]) => nonFiniteNumbers(entry, `${path}.${key}`));
}

let data: { x: tf.Tensor; y: tf.Tensor };
beforeAll(async () => {
  await useCpu();
  data = toyData(16, 8, 3);
});
afterAll(() => tf.dispose([data.x, data.y]));

async function trainTwoSteps(plugin: TrainerPlugin | null, trainerOptions: Record<string, unknown>, fitOptions: Record<string, unknown>): Promise<Trainer> {
  const trainer = createTrainer(denseModel(1), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', ...trainerOptions });
  try {
    if (plugin) trainer.use(plugin);
    // Two steps are enough to see that it trains (an accepted epochs: 1e12 is a long run, not a hang).
    let steps = 0;
    trainer.hooks.afterStep.tap('fuzz', () => void (++steps >= 2 && (trainer.stopTraining = true)));
    await trainer.fit(data.x, data.y, { epochs: 1, batchSize: 8, ...fitOptions });
    return trainer;
  } finally {
    await trainer.dispose();
  }
}

describe(`${CASES} seeded bad option objects`, () => {
  it('each is accepted and trains with finite weights, or is refused by an Error naming the option', async () => {
    const outcomes = { accepted: 0, refused: 0 };
    const problems: string[] = [];
    for (let index = 0; index < CASES; index++) {
      const target = TARGETS[index % TARGETS.length]!;
      const { options, keys } = fuzzedOptions(target);
      const label = `#${index} ${target.name}(${keys.map((key) => `${key}: ${String(options[key]?.toString?.() ?? options[key])}`).join(', ')})`;
      try {
        const plugin = target.make(options);
        const trainer = await trainTwoSteps(plugin, target.name === 'createTrainer' ? options : {}, target.name === 'fit' ? options : {});
        const accepted = nonFiniteNumbers(options).filter((path) => !path.startsWith('.validationData'));
        if (accepted.length > 0) problems.push(`${label}: accepted a non-finite number at ${accepted.join(', ')}`);
        if (!trainer.variables.every((variable) => variable.dataSync().every(Number.isFinite))) problems.push(`${label}: trained to non-finite weights`);
        outcomes.accepted++;
      } catch (error) {
        outcomes.refused++;
        if (!(error instanceof Error)) {
          problems.push(`${label}: threw a non-Error ${String(error)}`);
          continue;
        }
        // The message names one of the options set (a nested path is named by its first key).
        if (!keys.some((key) => error.message.includes(key))) problems.push(`${label}: the error does not name the option: ${error.message.split('\n')[0]}`);
      }
    }
    expect(problems).toEqual([]);
    expect(outcomes.accepted + outcomes.refused).toBe(CASES);
    // Both outcomes occur: the fuzz reaches past the checks into training.
    expect(outcomes.accepted).toBeGreaterThan(50);
    expect(outcomes.refused).toBeGreaterThan(500);
  }, 300_000);
});
