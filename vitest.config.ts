import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

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
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
