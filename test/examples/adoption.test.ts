// The adoption examples run as a user would run them, and (a) really is a three-line change.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../cli/cli-helpers.js';

function runExample(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/src/adoption', file)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('adoption examples', () => {
  it('(a) moves a model.fit script onto trainhooks with three changed lines, and it trains', async () => {
    const source = readFileSync(join(ROOT, 'examples/src/adoption/model-fit.ts'), 'utf8');
    expect(source.split('\n').filter((line) => line.includes('// trainhooks'))).toHaveLength(3);
    const { code, output } = await runExample('model-fit.ts');
    expect(code, output).toBe(0);
    expect(output).toMatch(/validation accuracy per epoch: 0\.\d+, 0\.\d+, 0\.\d+/);
  });

  it('(b) drives a raw-variable model with trainer.step in a custom loop', async () => {
    const { code, output } = await runExample('custom-loop.ts');
    expect(code, output).toBe(0);
    expect(output).toMatch(/epoch 3: mean loss \d\.\d+, frozen prefix \d/);
    expect(output).toMatch(/test accuracy 0\.\d+/);
  });

  it('(c) runs an ablation from code and writes the same report as the command', async () => {
    const out = join(ROOT, 'trainhooks-out/ablation-in-code');
    rmSync(out, { recursive: true, force: true });
    const { code, output } = await runExample('ablation-in-code.ts');
    expect(code, output).toBe(0);
    expect(output).toMatch(/\| freeze\+grad-prune \| 2 \|/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runs: unknown[] };
    expect(report.runs).toHaveLength(8);
  });
});
