// A seeded generator as a plain function, for test data; shuffles use core-hooks' shuffleInPlace.
import { SeededRandom } from '@trainhooks/core-hooks/internal';

/** mulberry32 (core-hooks' SeededRandom) as a function returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}
