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
