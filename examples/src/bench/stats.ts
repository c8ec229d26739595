import { mkdirSync, writeFileSync } from 'node:fs';

import { median } from '@trainhooks/cli/internal';

export { median, timeToAccuracy } from '@trainhooks/cli/internal';

/**
 * Median of per-seed speedups, a missed seed (null) counting as 0 as in the CLI's reports: it says
 * missed (null) only when the middle seeds missed.
 */
export function medianSpeedup(speedups: ReadonlyArray<number | null>): number | null {
  return median(speedups.map((speedup) => speedup ?? 0)) || null;
}

export function writeResult(name: string, result: unknown): string {
  mkdirSync('.bench-out', { recursive: true });
  const path = `.bench-out/${name}.json`;
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}

/** "cnn:4096,resnet:2048" → { cnn: 4096, resnet: 2048 }: per-model numbers on the command line. */
export function parseModelNumbers(text: string): Record<string, number> {
  return Object.fromEntries(text.split(',').map((entry) => entry.split(':')).map(([model, value]) => [model!, Number(value)]));
}
