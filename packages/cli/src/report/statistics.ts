// Small statistics over seeds.

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

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
