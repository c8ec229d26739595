// One build config for every package. `npm run build` at the root builds them all;
// `npm run build` inside packages/<name> (what `npm pack` runs) builds just that one.
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

const root = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(root, 'packages');
const allPackages = readdirSync(packagesDir).filter((name) =>
  existsSync(join(packagesDir, name, 'src', 'index.ts')),
);

const cwd = resolve(process.cwd());
const insidePackage = relative(packagesDir, cwd);
const selected =
  insidePackage && !insidePackage.startsWith('..') ? [basename(cwd)] : allPackages;

function packageConfig(name: string): Options {
  const dir = join(packagesDir, name);
  return {
    name,
    // Worker modules (src/*-worker.ts) are entries of their own: a Worker or child process loads them
    // by path. So is a command-line entry (src/bin.ts).
    entry: Object.fromEntries(
      [
        'index',
        ...readdirSync(join(dir, 'src'))
          .filter((file) => file.endsWith('-worker.ts') || file === 'bin.ts')
          .map((file) => file.slice(0, -3)),
      ].map(
        (entry) => [entry, join(dir, 'src', `${entry}.ts`)],
      ),
    ),
    outDir: join(dir, 'dist'),
    format: ['esm', 'cjs'],
    // Declarations for the public face only: workers and bins are run, never imported.
    dts: { entry: { index: join(dir, 'src', 'index.ts') }, compilerOptions: { paths: {} } },
    tsconfig: join(root, 'tsconfig.json'),
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    // tfjs is a global singleton: bundling a second copy breaks kernel registration.
    external: [/^@tensorflow\//, /^@trainhooks\//, 'tapable', 'mitt', 'hdr-histogram-js', 'piscina', 'koffi', 'commander', 'cli-progress', 'vega', 'vega-lite'],
  };
}

export default defineConfig(selected.map(packageConfig));
