// A run's seed covers Dropout: tfjs draws the seeds of unseeded random ops from Math.random, which a run
// replaces by a seeded generator while it trains — two runs of one seed train identically, and the
// process's Math.random is back afterwards.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LEARNING_RATES, DEFAULT_RUN_SPEC, runTraining, seedMathRandom, type RunSpec } from '@trainhooks/cli/internal';

describe('seedMathRandom', () => {
  it('gives the same stream for the same seed, another for another seed, and puts Math.random back', () => {
    const original = Math.random;
    const draw = (seed: number) => {
      const restore = seedMathRandom(seed);
      const values = Array.from({ length: 5 }, () => Math.random());
      restore();
      return values;
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
    expect(Math.random).toBe(original);
  });
});

describe('runTraining with a model that has Dropout', () => {
  it('trains two runs of one seed identically and restores Math.random', async () => {
    const spec: RunSpec = {
      ...DEFAULT_RUN_SPEC,
      model: 'cnn', // Dropout after the convolutions and after dense1
      learningRate: DEFAULT_LEARNING_RATES.adam,
      epochs: 1,
      batchSize: 32,
      backend: 'wasm',
      threads: 1,
      trainLimit: 128,
      testLimit: 64,
    };
    const original = Math.random;
    const first = await runTraining(spec);
    const second = await runTraining(spec);
    expect(Math.random).toBe(original);
    expect(second.points.map((p) => p.testLoss)).toEqual(first.points.map((p) => p.testLoss));
    expect(second.points.map((p) => p.trainLoss)).toEqual(first.points.map((p) => p.trainLoss));
    const other = await runTraining({ ...spec, seed: 2 });
    expect(other.points[0]!.trainLoss).not.toEqual(first.points[0]!.trainLoss);
  }, 120_000);
});
