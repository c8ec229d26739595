// A plugin of one's own, named by its module's path: it runs in an ablation and appears in its report
// with no glue in the CLI — its report() lands in report.json, its describe() decides how the table
// reads it (a plugin that says it skips work and skipped none gets "skipped nothing", not a speedup).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '@trainhooks/cli';
import { runCli, TINY } from './cli-helpers.js';

const PLUGIN_SOURCE = `
// Counts steps and does nothing else. The default export makes the plugin from its options.
export default function create(options, inputs) {
  let steps = 0;
  return {
    name: 'StepCounter',
    apply(trainer) {
      trainer.hooks.afterStep.tap('StepCounter', () => void steps++);
    },
    report: () => ({ steps, label: options.label, seed: inputs.seed }),
    describe: () => ({ speedup: 'skips-work', communicates: false }),
  };
}
`;

describe('a plugin module of your own in trainhooks ablate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trainhooks-own-plugin-'));
  const pluginPath = join(dir, 'step-counter.mjs');
  let run: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    writeFileSync(pluginPath, PLUGIN_SOURCE);
    const options = join(dir, 'plugin-options.json');
    writeFileSync(options, JSON.stringify({ [pluginPath]: { label: 'mine' } }));
    run = await runCli(['ablate', ...TINY, '--plugins', pluginPath, '--matrix', 'cumulative', '--epochs', '1', '--seeds', '2', '--parallel', '2', '--plugin-options', options, '--out', join(dir, 'report')]);
  });

  it('runs beside the baseline and lands its report() in report.json under its path', () => {
    expect(run.code, run.stderr).toBe(0);
    const data = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8')) as ReportData;
    expect(data.settings.configurations).toEqual(['baseline', pluginPath]);
    const own = data.runs.filter((result) => result.configuration === pluginPath);
    expect(own.map((result) => result.pluginReports[pluginPath])).toEqual([
      { steps: 8, label: 'mine', seed: 1 },
      { steps: 8, label: 'mine', seed: 2 },
    ]);
    expect(own[0]!.pluginDescriptions[pluginPath]).toEqual({ speedup: 'skips-work', communicates: false });
  });

  it('is labelled "skipped nothing" in the table, not given a speedup', () => {
    const row = run.stdout.split('\n').find((line) => line.startsWith(`| ${pluginPath} |`));
    expect(row, run.stdout).toBeDefined();
    expect(row).toMatch(/\| 2 \| skipped nothing \| [\d.–]+ \| skipped nothing \|/);
    expect(run.stdout).toMatch(/Noise: the baseline's training time spread by [\d.]+ % over seeds/);
  });

  it('is refused before anything trains when the module does not make a plugin', async () => {
    const notAPlugin = join(dir, 'not-a-plugin.mjs');
    writeFileSync(notAPlugin, 'export const x = 1;\n');
    const refused = await runCli(['train', ...TINY, '--plugins', notAPlugin]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not-a-plugin\.mjs must default-export a function \(options, inputs\) => plugin/);
  });
});
