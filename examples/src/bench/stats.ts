import { mkdirSync, writeFileSync } from 'node:fs';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function writeResult(name: string, result: unknown): string {
  mkdirSync('.bench-out', { recursive: true });
  const path = `.bench-out/${name}.json`;
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}

/** Training seconds until test accuracy first reaches `target`, or null (missed). */
export function timeToAccuracy(points: ReadonlyArray<{ readonly seconds: number; readonly testAccuracy: number }>, target: number): number | null {
  return points.find((point) => point.testAccuracy >= target)?.seconds ?? null;
}

/** "cnn:4096,resnet:2048" → { cnn: 4096, resnet: 2048 }: per-model numbers on the command line. */
export function parseModelNumbers(text: string): Record<string, number> {
  return Object.fromEntries(text.split(',').map((entry) => entry.split(':')).map(([model, value]) => [model!, Number(value)]));
}
