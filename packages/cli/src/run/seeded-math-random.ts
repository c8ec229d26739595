// tfjs seeds every random op it is not given a seed for — Dropout's masks among them — from Math.random.
// While a run trains, Math.random is a generator seeded with the run's seed: two configurations of one
// seed then draw the same masks step for step as long as they draw equally many (common random numbers),
// so an ablation compares plugins rather than Dropout draws, and a run repeats. Worker threads (pipeline
// stages) keep their own Math.random.
import { seededRandom } from '../data/seeded-random.js';

/** Replaces Math.random by a generator seeded with `seed`; returns the function that puts the old one back. */
export function seedMathRandom(seed: number): () => void {
  const original = Math.random;
  // Offset, so that the stream differs from the other generators seeded with the same number.
  Math.random = seededRandom(seed + 0x9e3779b9);
  return () => {
    Math.random = original;
  };
}
