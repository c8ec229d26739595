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

/** The entries a user or a sibling package imports: index, and ./internal where the package has one. */
function importedEntries(dir: string): string[] {
  return existsSync(join(dir, 'src', 'internal.ts')) ? ['index', 'internal'] : ['index'];
}

function packageConfig(name: string): Options {
  const dir = join(packagesDir, name);
  return {
    name,
    // Worker modules (src/*-worker.ts) are entries of their own: a Worker or child process loads them
    // by path. So is a command-line entry (src/bin.ts).
    entry: Object.fromEntries(
      [
        ...importedEntries(dir),
        ...readdirSync(join(dir, 'src'))
          .filter((file) => file.endsWith('-worker.ts') || file === 'bin.ts')
          .map((file) => file.slice(0, -3)),
      ].map(
        (entry) => [entry, join(dir, 'src', `${entry}.ts`)],
      ),
    ),
    outDir: join(dir, 'dist'),
    format: ['esm', 'cjs'],
    // Declarations for what is imported (the public face and the ./internal subpath): workers and
    // bins are run, never imported.
    dts: { entry: Object.fromEntries(importedEntries(dir).map((entry) => [entry, join(dir, 'src', `${entry}.ts`)])), compilerOptions: { paths: {} } },
    // index, internal and the workers share modules: split them into shared chunks so that one process
    // holds one copy of each module's state (a class, a registry), in CJS as in ESM.
    splitting: true,
    shims: true,
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
