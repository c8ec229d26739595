// Small statistics over seeds.

import { median } from '@trainhooks/core-hooks/internal';

export { median };

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Training seconds until test accuracy first reaches `target`, or null (missed). */
export function timeToAccuracy(points: ReadonlyArray<{ readonly seconds: number; readonly testAccuracy: number }>, target: number): number | null {
  return points.find((point) => point.testAccuracy >= target)?.seconds ?? null;
}
