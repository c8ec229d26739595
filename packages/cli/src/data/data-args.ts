// Command-line flags that choose the Fashion-MNIST copy, shared by the demo and the benchmarks.
import type { FashionMnistSource } from './fashion-mnist.js';

/**
 * Understands `--data-dir DIR`, `--data-dir=DIR` and `--full`; every other argument is left to the caller.
 * The result spreads straight into loadFashionMnist({ ...parseDataArgs(argv), split }).
 */
export function parseDataArgs(argv: readonly string[]): FashionMnistSource {
  const source: FashionMnistSource = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--full') {
      source.full = true;
    } else if (arg === '--data-dir') {
      const dir = argv[i + 1];
      if (dir === undefined || dir.startsWith('--')) throw new Error('--data-dir needs a directory, e.g. --data-dir ./fashion-mnist');
      source.dataDir = dir;
      i++;
    } else if (arg.startsWith('--data-dir=')) {
      const dir = arg.slice('--data-dir='.length);
      if (dir === '') throw new Error('--data-dir= needs a directory');
      source.dataDir = dir;
    }
  }
  return source;
}
