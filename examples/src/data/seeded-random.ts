// Seeded shuffles for the examples' data, from core-hooks' generator.
import { SeededRandom } from '@trainhooks/core-hooks';

/** mulberry32 (core-hooks' SeededRandom) as a function returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

/** Fisher–Yates permutation of 0..n-1 drawn from `random`. */
export function randomPermutation(n: number, random: () => number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}
