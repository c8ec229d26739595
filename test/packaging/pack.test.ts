// Packs every package as npm would publish it (dist built first — once for all, with the root build
// script, which is what each package's prepack runs for itself — then `npm pack`), installs the tarballs into an empty
// project next to tfjs from the registry, and trains a tiny model through them from ESM and from CommonJS.
// This is the only test that runs the built dist instead of src, and the only one that needs the network
// (or a warm npm cache): it catches a wrong `exports` map, a missing file, a bundled tfjs, a broken
// CJS/ESM interop of a dependency (tapable, mitt, hdr-histogram-js) and a plugin that cannot be installed
// beside core-hooks. It rebuilds packages/*/dist as a side effect.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasMpirun } from '../plugin-mpi/fixtures/mpirun.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CORE = 'core-hooks';
const PLUGINS = ['plugin-freeze', 'plugin-grad-prune', 'plugin-act-cache', 'plugin-pipeline', 'plugin-mpi'] as const;
const TFJS_VERSION = '4.22.0';
const TFJS = ['tfjs-core', 'tfjs-layers', 'tfjs-backend-cpu'].map((name) => `@tensorflow/${name}@${TFJS_VERSION}`);
/** Bundling tfjs-core alone makes dist/index.js ~630 kB; our own code is ~35–85 kB. */
const MAX_DIST_BYTES = 200_000;
/** A source map carries the code's sources as well as its mappings: twice the bound (bundled tfjs: > 1 MB). */
const maxDistBytes = (file: string) => (file.endsWith('.map') ? 2 * MAX_DIST_BYTES : MAX_DIST_BYTES);
const MINUTE = 60_000;
const TIMEOUT = 5 * MINUTE;

// `npm test` / `npx` put lifecycle and workspace variables in the environment; a nested npm in another
// folder must not pick them up.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^npm_(lifecycle_|package_|command$|config_local_prefix$|config_workspaces?$)/i.test(key),
  ),
);

const execFileAsync = promisify(execFile);

/**
 * Runs a command and resolves to its stdout; a non-zero exit (or timeout) rejects with both streams' tails.
 * Asynchronous on purpose: execFileSync would block the test worker's event loop for minutes, and
 * vitest's worker RPC ("onTaskUpdate") times out when it gets no turn for 60 s.
 */
async function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      cwd,
      env,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { code?: number | string; signal?: string | null; stdout?: string; stderr?: string };
    const tail = (text = '') => text.slice(-4000);
    throw new Error(
      `\`${command} ${args.join(' ')}\` in ${cwd} failed (exit ${e.code}, signal ${e.signal})\n` +
        `--- stdout\n${tail(e.stdout)}\n--- stderr\n${tail(e.stderr)}`,
    );
  }
}

const work = mkdtempSync(join(tmpdir(), 'trainhooks-pack-'));

interface Packed {
  tarball: string;
  /** Paths inside the package (the tarball's `package/` prefix removed). */
  files: string[];
  /** Where the tarball was extracted (its `package/` folder). */
  dir: string;
}

/**
 * Each package is packed (and so built) once per file; the CLI's test reuses the plugins' tarballs.
 * One at a time: every plugin's prepack rebuilds core-hooks' dist, which another pack may be reading.
 */
const packing = new Map<string, Promise<Packed>>();
function pack(name: string): Promise<Packed> {
  if (!packing.has(name)) packing.set(name, packOnce(name));
  return packing.get(name)!;
}

async function packOnce(name: string): Promise<Packed> {
  const destination = join(work, 'tarballs', name);
  mkdirSync(destination, { recursive: true });
  // The dist is built once in beforeAll: each prepack would rebuild core-hooks as well (8 builds of it).
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', destination], join(ROOT, 'packages', name), 3 * MINUTE);
  const tarballs = readdirSync(destination).filter((file) => file.endsWith('.tgz'));
  expect(tarballs, `npm pack of ${name} wrote one tarball`).toHaveLength(1);
  const tarball = join(destination, tarballs[0]!);
  const files = (await run('tar', ['tzf', tarball], work, MINUTE))
    .split('\n')
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ''));
  const extracted = join(work, 'extracted', name);
  mkdirSync(extracted, { recursive: true });
  await run('tar', ['xzf', tarball, '-C', extracted], work, MINUTE);
  return { tarball, files, dir: join(extracted, 'package') };
}

/** One script that trains through the installed packages; `esm` picks import or require syntax. */
function trainingScript(esm: boolean, pluginName: string | null): string {
  const freezes = pluginName === '@trainhooks/plugin-freeze';
  const pipelines = pluginName === '@trainhooks/plugin-pipeline';
  // Without Open MPI on the machine plugin-mpi is only imported (as the MPI tests are skipped); CI has it.
  const mpis = pluginName === '@trainhooks/plugin-mpi' && hasMpirun;
  const load = (what: string, from: string) =>
    esm ? `import ${what} from '${from}';` : `const ${what.replace('* as ', '')} = require('${from}');`;
  const body = `
  // The backend is loaded through @trainhooks/backend's dynamic import(): it must land in the same tfjs engine.
  const selected = await setupBackend('cpu', () => {});
  const model = tfl.sequential({ layers: [
    tfl.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
    tfl.layers.dense({ units: 3, activation: 'softmax' }),
  ] });
  model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([16, 4]);
  const y = tf.oneHot(tf.randomUniform([16], 0, 3, 'int32'), 3);
  const trainer = createTrainer(model);
  ${freezes ? `// The reference worker is a file of its own in dist: it must load from the installed package.
  const freeze = pluginExports.freezePlugin({ criterion: 'drift-trend', maxFrozenUnits: 'all-but-head', warmupSteps: 1, evalEvery: 1, referenceLag: 1, window: 2, patience: 1, driftThreshold: 1, tolerance: 1, deterministic: true });
  trainer.use(freeze);` : ''}
  ${pipelines ? `// The stage workers are a file of their own in dist: they must load from the installed package.
  const pipeline = pluginExports.pipelinePlugin({ stages: 2, microBatches: 2, fallback: 'never' });
  trainer.use(pipeline);` : ''}
  ${mpis ? `// koffi and Open MPI from the installed package: a singleton job (no mpirun) of one rank.
  const mpi = pluginExports.mpiPlugin();
  trainer.use(mpi);` : ''}
  const history = await trainer.fit(x, y, { epochs: ${freezes ? 3 : 1}, batchSize: 4 });
  console.log('RESULT ' + JSON.stringify({
    loss: history.history.loss[0],
    // index and ./internal share one copy of each module (one Trainer class), in ESM as in CJS.
    internalSharesState: internal.Trainer === Trainer && trainer instanceof internal.Trainer,
    backend: tf.getBackend(),
    selected: selected.backend,
    packageName: ${pluginName ? 'pluginExports.PACKAGE_NAME' : 'null'},
    freeze: ${freezes ? '{ ...freeze.report(), units: undefined, frozenPrefix: trainer.frozenPrefix }' : 'null'},
    pipelineStages: ${pipelines ? 'pipeline.plan().stages.length' : 'null'},
    mpi: ${mpis ? '{ rank: mpi.rank, size: mpi.size, steps: mpi.stats().steps }' : 'null'},
  }));
  await trainer.dispose();`;
  const lines = [
    load('* as tf', '@tensorflow/tfjs-core'),
    load('* as tfl', '@tensorflow/tfjs-layers'),
    load('{ createTrainer, Trainer }', '@trainhooks/core-hooks'),
    load('* as internal', '@trainhooks/core-hooks/internal'),
    load('{ setupBackend }', '@trainhooks/backend'),
    ...(pluginName ? [load('* as pluginExports', pluginName)] : []),
  ];
  if (esm) return `${lines.join('\n')}\n${body}\n`;
  return `'use strict';\n${lines.join('\n')}\n(async () => {${body}\n})().catch((error) => { console.error(error); process.exit(1); });\n`;
}

interface ScriptResult {
  loss: number;
  internalSharesState: boolean;
  backend: string;
  selected: string;
  packageName: string | null;
  freeze: { evaluations: number; failures: number; placement: string; frozenPrefix: number } | null;
  pipelineStages: number | null;
  mpi: { rank: number; size: number; steps: number } | null;
}

async function runScript(project: string, file: string): Promise<ScriptResult> {
  const stdout = await run(process.execPath, [file], project, 2 * MINUTE);
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, `${file} printed a RESULT line; stdout was:\n${stdout}`).toBeDefined();
  return JSON.parse(line!.slice('RESULT '.length)) as ScriptResult;
}

let core: Packed;
/** Every project installs it: it is how a script picks the backend, and freeze and pipeline depend on it. */
let backend: Packed;

beforeAll(async () => {
  await run('npm', ['run', 'build'], ROOT, 2 * TIMEOUT);
  core = await pack(CORE);
  backend = await pack('backend');
}, 2 * TIMEOUT);

describe('publishing builds first', () => {
  it('every package builds its dist before it is packed (prepack), core-hooks first for the others', () => {
    for (const name of [CORE, 'backend', ...PLUGINS, 'cli']) {
      const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
      const expected = name === CORE ? 'npm run build' : 'npm run build --prefix ../core-hooks && npm run build';
      expect(manifest.scripts?.prepack, `${name}'s prepack`).toBe(expected);
    }
  });
});

afterAll(() => {
  if (!process.env.TRAINHOOKS_KEEP_PACK_TMP) rmSync(work, { recursive: true, force: true });
});

describe.each([CORE, ...PLUGINS])('%s as a published package', (name) => {
  const packageName = `@trainhooks/${name}`;
  const isPlugin = name !== CORE;
  let packed: Packed;

  beforeAll(async () => {
    packed = isPlugin ? await pack(name) : core;
  }, TIMEOUT);

  it('ships ESM, CJS and declarations, and no tfjs', () => {
    for (const file of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/internal.js', 'dist/internal.cjs', 'dist/internal.d.ts', 'README.md', 'package.json']) {
      expect(packed.files, `tarball lists ${file}`).toContain(file);
    }
    if (name === 'plugin-freeze') expect(packed.files).toEqual(expect.arrayContaining(['dist/reference-worker.js', 'dist/reference-worker.cjs']));
    if (name === 'plugin-pipeline') expect(packed.files).toEqual(expect.arrayContaining(['dist/stage-worker.js', 'dist/stage-worker.cjs']));
    expect(packed.files.filter((file) => file.includes('node_modules') || file.includes('@tensorflow'))).toEqual([]);
    expect(packed.files.filter((file) => !file.startsWith('dist/') && file !== 'README.md' && file !== 'package.json')).toEqual([]);

    for (const file of packed.files.filter((f) => f.startsWith('dist/'))) {
      const path = join(packed.dir, file);
      expect(statSync(path).size, `${file} is small enough not to hold tfjs`).toBeLessThan(maxDistBytes(file));
      // esbuild labels every bundled module with its path; source maps list them in "sources".
      // tsup's own few-line shim (import.meta.url in CommonJS, __filename in ESM) is the one exception.
      const text = readFileSync(path, 'utf8').replace(/(\.\.\/)*node_modules\/tsup\/assets\/(cjs|esm)_shims\.js/g, '');
      expect(text, `${file} has no bundled node_modules`).not.toMatch(/node_modules[\\/]/);
    }

    const esm = readFileSync(join(packed.dir, 'dist/index.js'), 'utf8');
    const cjs = readFileSync(join(packed.dir, 'dist/index.cjs'), 'utf8');
    // index, ./internal and the workers share their modules through chunks: all of the code, per format.
    const code = (extension: string) => packed.files.filter((file) => file.startsWith('dist/') && file.endsWith(extension)).map((file) => readFileSync(join(packed.dir, file), 'utf8')).join('\n');
    const manifest = JSON.parse(readFileSync(join(packed.dir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    expect(manifest.name).toBe(packageName);
    expect(manifest.peerDependencies?.['@tensorflow/tfjs-core']).toBeDefined();
    expect(Object.keys(manifest.dependencies ?? {}).filter((dep) => dep.startsWith('@tensorflow/'))).toEqual([]);
    if (isPlugin) {
      expect(esm).toMatch(/export\s*\{[^}]*\bPACKAGE_NAME\b/);
      expect(cjs).toContain('PACKAGE_NAME');
      expect(readFileSync(join(packed.dir, 'dist/index.d.ts'), 'utf8')).toContain('PACKAGE_NAME');
    } else {
      // tfjs stays an import of the peer package, in both formats.
      expect(code('.js')).toMatch(/from\s*["']@tensorflow\/tfjs-core["']/);
      expect(code('.cjs')).toMatch(/require\(\s*["']@tensorflow\/tfjs-core["']\s*\)/);
      expect(code('.cjs'), 'CommonJS has no import.meta').not.toMatch(/import\.meta/);
      expect(readFileSync(join(packed.dir, 'dist/index.d.ts'), 'utf8')).toMatch(/\bcreateTrainer\b/);
    }
  });

  it(
    'installs into an empty project and trains from ESM and from CommonJS',
    async () => {
      const project = join(work, 'projects', name);
      mkdirSync(project, { recursive: true });
      await run('npm', ['init', '-y'], project, MINUTE);
      const tarballs = isPlugin ? [core.tarball, backend.tarball, packed.tarball] : [core.tarball, backend.tarball];
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, ...TFJS], project, 4 * MINUTE);
      // The plugin's dependency on core-hooks must resolve to the core tarball, not to a registry copy.
      expect(existsSync(join(project, 'node_modules', packageName, 'node_modules'))).toBe(false);

      const pluginName = isPlugin ? packageName : null;
      writeFileSync(join(project, 'train.mjs'), trainingScript(true, pluginName));
      writeFileSync(join(project, 'train.cjs'), trainingScript(false, pluginName));
      for (const script of ['train.mjs', 'train.cjs']) {
        const result = await runScript(project, script);
        expect(Number.isFinite(result.loss), `${script} loss ${result.loss} is finite`).toBe(true);
        expect(result.loss).toBeGreaterThan(0);
        expect(result.backend).toBe('cpu');
        expect(result.selected).toBe('cpu');
        expect(result.internalSharesState).toBe(true);
        expect(result.packageName).toBe(pluginName);
        if (name === 'plugin-freeze') {
          // The worker ran from dist (ESM or CJS) and its results came back: it froze the first unit.
          expect(result.freeze).toMatchObject({ placement: 'worker', failures: 0, frozenPrefix: 1 });
          expect(result.freeze!.evaluations).toBeGreaterThan(2);
        }
        // The stages ran from dist (ESM or CJS): two of them, each with its slice of the model.
        if (name === 'plugin-pipeline') expect(result.pipelineStages).toBe(2);
        // 16 samples in batches of 4: four all-reduce steps of a one-rank job.
        if (name === 'plugin-mpi' && hasMpirun) expect(result.mpi).toEqual({ rank: 0, size: 1, steps: 4 });
      }
    },
    TIMEOUT,
  );
});

describe('backend as a published package', () => {
  it(
    'installs beside core-hooks and tfjs-backend-wasm and computes conv gradients with its kernels on 2 threads, from ESM and CommonJS',
    async () => {
      expect(backend.files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'README.md']));
      expect(backend.files.filter((file) => !file.startsWith('dist/') && file !== 'README.md' && file !== 'package.json')).toEqual([]);
      for (const file of backend.files.filter((f) => f.startsWith('dist/'))) {
        expect(statSync(join(backend.dir, file)).size, `${file} is small enough not to hold tfjs`).toBeLessThan(maxDistBytes(file));
      }
      const project = join(work, 'projects', 'backend');
      mkdirSync(project, { recursive: true });
      await run('npm', ['init', '-y'], project, MINUTE);
      const wasm = `@tensorflow/tfjs-backend-wasm@${TFJS_VERSION}`;
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', core.tarball, backend.tarball, ...TFJS, wasm], project, 4 * MINUTE);
      const body = `
  // Two threads: the pthread workers must start from the installed package and let the script exit.
  const setup = await setupBackend('wasm', { threads: 2, log: () => {} });
  const x = tf.randomNormal([2, 8, 8, 3]);
  const filter = tf.randomNormal([3, 3, 3, 4]);
  const dFilter = tf.grad((f) => tf.sum(tf.conv2d(x, f, 1, 'same')))(filter);
  console.log('RESULT ' + JSON.stringify({ backend: tf.getBackend(), threads: setup.threads, kernels: setup.kernels, sum: tf.sum(tf.abs(dFilter)).dataSync()[0] }));`;
      const esm = `import * as tf from '@tensorflow/tfjs-core';\nimport { setupBackend } from '@trainhooks/backend';\n${body}\n`;
      const cjs = `'use strict';\nconst tf = require('@tensorflow/tfjs-core');\nconst { setupBackend } = require('@trainhooks/backend');\n(async () => {${body}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
      writeFileSync(join(project, 'grad.mjs'), esm);
      writeFileSync(join(project, 'grad.cjs'), cjs);
      for (const script of ['grad.mjs', 'grad.cjs']) {
        const stdout = await run(process.execPath, [script], project, 2 * MINUTE);
        const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
        expect(line, stdout).toBeDefined();
        const result = JSON.parse(line!.slice('RESULT '.length)) as { backend: string; threads: number; kernels: string[]; sum: number };
        expect(result.backend).toBe('wasm');
        expect(result.threads).toBe(2);
        expect(result.kernels).toContain('Conv2DBackpropFilter');
        expect(Number.isFinite(result.sum) && result.sum > 0).toBe(true);
      }
    },
    TIMEOUT,
  );
});

describe('cli as a published package', () => {
  let cli: Packed;

  beforeAll(async () => {
    cli = await pack('cli');
  }, TIMEOUT);

  it('ships its bin, its worker, the embedded data, the pretrained backbones and nothing else', () => {
    expect(cli.files).toEqual(
      expect.arrayContaining(['dist/bin.js', 'dist/ablation-worker.js', 'dist/ablation-worker.cjs', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'README.md']),
    );
    expect(cli.files.filter((file) => file.startsWith('data/')).sort()).toEqual([
      ...['README.md', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'].map((file) => `data/fashion-mnist-subset/${file}`),
      ...['cnn', 'mlp', 'resnet'].flatMap((model) => ['model.json', 'training.json', 'weights.bin'].map((file) => `data/pretrained/${model}/${file}`)),
    ]);
    expect(cli.files.filter((file) => !file.startsWith('dist/') && !file.startsWith('data/') && file !== 'README.md' && file !== 'package.json')).toEqual(['bin/trainhooks.js']);
    for (const file of cli.files.filter((f) => f.startsWith('dist/'))) {
      expect(statSync(join(cli.dir, file)).size, `${file} holds no bundled dependency`).toBeLessThan(maxDistBytes(file));
    }
    expect(readFileSync(join(cli.dir, 'dist/bin.js'), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    expect(readFileSync(join(cli.dir, 'bin/trainhooks.js'), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  it(
    'installs with the plugins and runs `trainhooks train` from its bin; the library loads from CommonJS',
    async () => {
      const others = await Promise.all(['plugin-freeze', 'plugin-grad-prune', 'plugin-act-cache', 'plugin-pipeline', 'plugin-mpi'].map(pack));
      const project = join(work, 'projects', 'cli');
      mkdirSync(project, { recursive: true });
      await run('npm', ['init', '-y'], project, MINUTE);
      const tarballs = [core.tarball, backend.tarball, ...others.map((packed) => packed.tarball), cli.tarball];
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, ...TFJS], project, 4 * MINUTE);
      const out = join(project, 'report');
      // A shipped backbone fine-tuned on the digits: the installed copy finds its data/pretrained and the mnist package.
      const args = ['trainhooks', 'train', '--model', 'pretrained:mlp', '--data', 'digits', '--plugins', 'grad-prune', '--train-limit', '128', '--test-limit', '64', '--epochs', '1', '--backend', 'cpu', '--quiet', '--out', out];
      const stdout = await run('npx', ['--no-install', ...args], project, 3 * MINUTE);
      expect(stdout).toContain(join(out, 'report.html'));
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runs: Array<{ configuration: string; backend: string }> };
      expect(report.runs.map((r) => [r.configuration, r.backend])).toEqual([['grad-prune', 'cpu']]);
      writeFileSync(join(project, 'load.cjs'), `const cli = require('@trainhooks/cli');\nconsole.log('RESULT ' + JSON.stringify(cli.configurationMatrix('cumulative', ['freeze', 'act-cache']).map(cli.configurationLabel)));\n`);
      const loaded = await run(process.execPath, ['load.cjs'], project, MINUTE);
      expect(loaded).toContain('RESULT ["baseline","freeze","freeze+act-cache"]');
    },
    TIMEOUT,
  );
});
