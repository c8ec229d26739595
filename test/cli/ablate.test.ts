// `trainhooks ablate` end to end on a tiny set: the three report files with their fields, report.html
// in headless Chromium (no console errors, its charts drawn; a screenshot kept in test-artifacts/), and
// Ctrl-C keeping the runs that finished.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '@trainhooks/cli';
import { ROOT, runCli, TINY } from './cli-helpers.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((path) => existsSync(path));
const ARTIFACTS = join(ROOT, 'test-artifacts');

describe('trainhooks ablate on a tiny set', () => {
  const out = mkdtempSync(join(tmpdir(), 'trainhooks-ablate-'));
  let exitCode: number | null = null;
  let stdout = '';

  beforeAll(async () => {
    // Freeze evaluates from step 2, waiting for each result (deterministic), so that a 2-epoch run of 16
    // steps has a plasticity series to chart whatever the worker's start-up time.
    const options = join(out, 'plugin-options.json');
    await import('node:fs').then((fs) => fs.writeFileSync(options, JSON.stringify({ freeze: { warmupSteps: 2, evalEvery: 2, referenceLag: 1, window: 2, patience: 1, deterministic: true }, 'grad-prune': { monitorEvery: 2, minObservations: 2 } })));
    const run = await runCli(['ablate', ...TINY, '--plugins', 'freeze,act-cache,grad-prune', '--matrix', 'cumulative', '--epochs', '2', '--evals-per-epoch', '2', '--seeds', '2', '--parallel', '2', '--plugin-options', options, '--out', out, '--quiet']);
    exitCode = run.code;
    stdout = run.stdout + run.stderr;
  });

  it('exits 0 and says where the report is', () => {
    expect(exitCode, stdout).toBe(0);
    expect(stdout).toContain(join(out, 'report.html'));
  });

  it('writes report.json with the summary, the raw series and every plugin report', () => {
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data.settings.configurations).toEqual(['baseline', 'freeze', 'freeze+act-cache', 'freeze+act-cache+grad-prune']);
    expect(data.runs).toHaveLength(8);
    // Two runs side by side on this machine's cores: the cores are shared out between them.
    expect(data.backends).toEqual([expect.stringMatching(/^wasm, \d+ threads?$/)]);
    expect(data.machine.cores).toBeGreaterThan(0);
    for (const row of data.summary) {
      expect(row.runs).toBe(2);
      expect(row.seeds.map((seed) => seed.seed)).toEqual([1, 2]);
      for (const key of ['speedup', 'finalAccuracy', 'samplesPerSecond', 'backwardSkippedShare', 'forwardSkippedShare', 'bytesNotCommunicated'] as const) expect(row[key], key).not.toBeUndefined();
      expect(row.samplesPerSecond).toBeGreaterThan(0);
    }
    for (const run of data.runs) {
      // Two test evaluations per epoch: halfway and at the end.
      expect(run.points.map((point) => point.epoch)).toEqual([0.5, 1, 1.5, 2]);
      for (let i = 1; i < run.points.length; i++) expect(run.points[i]!.seconds).toBeGreaterThan(run.points[i - 1]!.seconds);
      expect(run.trainingSeconds).toBeCloseTo(run.points.at(-1)!.seconds, 1);
      expect(Object.keys(run.pluginReports).sort()).toEqual([...run.spec.plugins].sort());
    }
    const withFreeze = data.runs.find((run) => run.configuration === 'freeze')!;
    expect((withFreeze.pluginReports.freeze as { units: Array<{ series: unknown[] }> }).units.some((unit) => unit.series.length > 0)).toBe(true);
  });

  it('writes report.md with the table and the machine', () => {
    const markdown = readFileSync(join(out, 'report.md'), 'utf8');
    expect(markdown).toMatch(/\| configuration \| runs \| whole run vs baseline \(median, min–max\) \| time to target \(s\) \| speedup to baseline acc − 0.3 pt/);
    for (const column of ['final test acc', 'samples/s', 'step p50 (ms, measured)', 'backward skipped (counted)', 'forward skipped by cache (counted)']) expect(markdown).toContain(column);
    // One process: nothing is ever communicated, so no column says what was not.
    expect(markdown).not.toContain('gradient bytes not communicated');
    expect(markdown).toMatch(/Noise: the baseline's training time spread by \d+\.\d % over seeds/);
    expect(markdown).toMatch(/\| freeze\+act-cache\+grad-prune \| 2 \|/);
    expect(markdown).toMatch(/backend \*\*wasm, \d+ threads?\*\*; machine: .+ cores/);
  });

  it.skipIf(!CHROMIUM && !process.env.TRAINHOOKS_REQUIRE_CHROMIUM)('report.html loads in headless Chromium with its charts and no console errors', async () => {
    expect(CHROMIUM, 'Chromium is required here (apt-get install chromium)').toBeDefined();
    const { default: puppeteer } = await import('puppeteer-core');
    const browser = await puppeteer.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
      page.on('pageerror', (error) => void errors.push(String(error)));
      page.on('requestfailed', (request) => void errors.push(`request failed: ${request.url()}`));
      await page.setViewport({ width: 1200, height: 900 });
      await page.goto(pathToFileURL(join(out, 'report.html')).href, { waitUntil: 'load' });
      const charts = await page.$$eval('figure.chart', (figures) => figures.map((figure) => ({ id: figure.id, marks: figure.querySelectorAll('svg path, svg line, svg circle').length })));
      expect(charts.map((chart) => chart.id)).toEqual(expect.arrayContaining(['accuracy', 'frozen-prefix', 'plasticity']));
      for (const chart of charts) expect(chart.marks, chart.id).toBeGreaterThan(5);
      expect(await page.$$eval('table tbody tr', (rows) => rows.length)).toBe(4);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'ablate-report.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(existsSync(join(ARTIFACTS, 'ablate-report.png'))).toBe(true);
  });
});

describe('trainhooks ablate, interrupted', () => {
  it('on SIGINT stops the running configuration, keeps the finished ones and exits 130', async () => {
    const out = mkdtempSync(join(tmpdir(), 'trainhooks-interrupt-'));
    let sent = false;
    const run = await runCli(['ablate', ...TINY, '--plugins', 'grad-prune', '--epochs', '3', '--json-lines', '--out', out], (line, child) => {
      const event = JSON.parse(line) as { type: string; configuration?: string };
      // The second run has started: interrupt it, as Ctrl-C would.
      if (!sent && event.type === 'run-start' && event.configuration === 'grad-prune') {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data.interrupted).toBe(true);
    expect(data.runs.map((result) => result.configuration)).toEqual(['baseline']);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('Interrupted');
  });
});

describe('trainhooks train, a run that fails', () => {
  it('reports the run’s error and exits 1 without a report', async () => {
    // A model that takes Fashion-MNIST rows but predicts 5 classes, not 10: training throws in the child.
    const dir = mkdtempSync(join(tmpdir(), 'trainhooks-bad-model-'));
    const topology = {
      class_name: 'Sequential',
      config: { name: 'tiny', layers: [{ class_name: 'Dense', config: { name: 'd', units: 5, activation: 'softmax', batch_input_shape: [null, 784], dtype: 'float32' } }] },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    };
    const weights = [
      { name: 'd/kernel', shape: [784, 5], dtype: 'float32' },
      { name: 'd/bias', shape: [5], dtype: 'float32' },
    ];
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(4 * (784 * 5 + 5)));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: topology, weightsManifest: [{ paths: ['weights.bin'], weights }] }));
    const out = join(dir, 'out');
    const run = await runCli(['train', '--model', join(dir, 'model.json'), '--train-limit', '64', '--test-limit', '32', '--backend', 'wasm', '--out', out]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/FAILED baseline seed 1: .*(shape|5|10)/);
    expect(run.stderr).toContain('no run finished; no report written');
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  });
});

describe('trainhooks ablate with the pipeline plugin', () => {
  it('runs baseline and pipeline side by side and reports the pipeline plan', async () => {
    const out = mkdtempSync(join(tmpdir(), 'trainhooks-pipeline-'));
    // On this tiny mlp the pipeline cannot pay and would hand over to the local trainer: keep it running.
    const options = join(out, 'plugin-options.json');
    writeFileSync(options, JSON.stringify({ pipeline: { fallback: 'never' } }));
    const run = await runCli(['ablate', ...TINY, '--plugins', 'pipeline', '--epochs', '1', '--plugin-options', options, '--out', out, '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data.runs.map((result) => result.configuration)).toEqual(['baseline', 'pipeline']);
    const pipelined = data.runs.find((result) => result.configuration === 'pipeline')!;
    const report = pipelined.pluginReports.pipeline as { plans: Array<{ plan: { stages: unknown[] } }>; steps: unknown[] };
    expect(report.plans[0]!.plan.stages).toHaveLength(2);
    expect(report.steps).toHaveLength(8);
    expect(pipelined.finalAccuracy).toBeGreaterThan(0.1);
  });
});
