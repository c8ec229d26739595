// Common random numbers for A/B runs. tfjs takes the seed of every unseeded random op — Dropout's masks
// among them — from Math.random, so two runs of one seed drop different units and end up to half a point
// apart on cnn with nothing else different. Seeding Math.random per seed gives both configurations of a
// seed the same masks, step for step, as long as they draw the same number of them: what differs between
// them is then the plugin's doing.
import { SeededRandom } from '@trainhooks/core-hooks';

/** Replaces Math.random in this process by a generator seeded with `seed`. */
export function seedMathRandom(seed: number): void {
  // Offset so that the stream differs from the data draws seeded with the same number.
  const random = new SeededRandom(seed + 0x9e3779b9);
  Math.random = () => random.next();
}
