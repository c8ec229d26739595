import { mkdirSync, writeFileSync } from 'node:fs';

export { median, timeToAccuracy } from '@trainhooks/cli';

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
