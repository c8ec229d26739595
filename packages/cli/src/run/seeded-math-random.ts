// tfjs seeds every random op it is not given a seed for — Dropout's masks among them — from Math.random.
// While a run trains, Math.random is a generator seeded with the run's seed: two configurations of one
// seed then draw the same masks step for step as long as they draw equally many (common random numbers),
// so an ablation compares plugins rather than Dropout draws, and a run repeats. Worker threads (pipeline
// stages) keep their own Math.random. A checkpoint saves the generator's state, so a resumed run draws
// the masks the uninterrupted one would have.
import { SeededRandom } from '@trainhooks/core-hooks/internal';

/** Offset, so that the stream differs from the other generators seeded with the same number. */
const MATH_RANDOM_OFFSET = 0x9e3779b9;

/** Math.random while a run trains: the generator (its state is checkpointed) and the way back. */
export interface SeededMathRandom {
  readonly generator: SeededRandom;
  /** Puts the original Math.random back. */
  restore(): void;
}

/** Replaces Math.random by `generator` (default: one seeded with `seed`). */
export function useSeededMathRandom(seed: number, generator = new SeededRandom(seed + MATH_RANDOM_OFFSET)): SeededMathRandom {
  const original = Math.random;
  Math.random = () => generator.next();
  return {
    generator,
    restore: () => {
      Math.random = original;
    },
  };
}

/** Replaces Math.random by a generator seeded with `seed`; returns the function that puts the old one back. */
export function seedMathRandom(seed: number): () => void {
  return useSeededMathRandom(seed).restore;
}
