import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@trainhooks/core-hooks': src('./packages/core-hooks/src/index.ts'),
      '@trainhooks/backend': src('./packages/backend/src/index.ts'),
      '@trainhooks/plugin-freeze': src('./packages/plugin-freeze/src/index.ts'),
      '@trainhooks/plugin-grad-prune': src('./packages/plugin-grad-prune/src/index.ts'),
      '@trainhooks/plugin-act-cache': src('./packages/plugin-act-cache/src/index.ts'),
      '@trainhooks/plugin-pipeline': src('./packages/plugin-pipeline/src/index.ts'),
      '@trainhooks/plugin-mpi': src('./packages/plugin-mpi/src/index.ts'),
      '@trainhooks/cli': src('./packages/cli/src/index.ts'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/wasm-threads.ts'],
    // tfjs keeps one global engine per process; forks keep test files from sharing it.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
