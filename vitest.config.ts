import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import SlowestFirst from './test/setup/slowest-first.js';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Every package from its source: `@trainhooks/x` → packages/x/src/index.ts, and its unstable
    // subpath `@trainhooks/x/internal` → packages/x/src/internal.ts.
    alias: [
      { find: /^@trainhooks\/([a-z-]+)\/internal$/, replacement: src('./packages/$1/src/internal.ts') },
      { find: /^@trainhooks\/([a-z-]+)$/, replacement: src('./packages/$1/src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/wasm-threads.ts'],
    // tfjs keeps one global engine per process; forks keep test files from sharing it.
    pool: 'forks',
    // Two files at a time even on 2 cores (vitest's default is one fewer than the cores): the slowest
    // files wait on child processes (npm pack and install, mpirun, the CLI's runs, stage threads) for
    // much of their time, and the other fork uses it.
    poolOptions: { forks: { maxForks: Math.max(2, availableParallelism() - 1) } },
    sequence: { sequencer: SlowestFirst },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
