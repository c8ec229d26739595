// `mpirun -np 2 trainhooks train --plugins mpi`: the CLI's main job as a data-parallel MPI job.
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, TINY } from '../cli/cli-helpers.js';
import { hasMpirun, mpirun, ROOT } from './fixtures/mpirun.js';

const BIN = join(ROOT, 'packages/cli/src/bin.ts');

interface Report {
  runs: Array<{ configuration: string; threads: number | null; finalAccuracy: number; pluginReports: Record<string, { rank: number; size: number; steps: number; bytes: number }> }>;
}

describe.runIf(hasMpirun)('trainhooks train --plugins mpi under mpirun', () => {
  it('2 ranks train one run; rank 0 alone prints and writes the report, which matches one process on the full batches', async () => {
    const args = [...TINY, '--epochs', '1', '--seed', '3', '--json-lines'];
    const out = mkdtempSync(join(tmpdir(), 'trainhooks-cli-mpi-'));
    const job = await mpirun(2, [BIN, 'train', ...args, '--plugins', 'mpi', '--out', out], 180_000);
    expect(job.code, job.stderr).toBe(0);
    // Every rank runs the command: one report line, one report, from rank 0.
    expect(job.stdout.split('\n').filter((line) => line.includes('"type":"report"'))).toHaveLength(1);
    expect(readdirSync(out).sort()).toEqual(['charts', 'report.html', 'report.json', 'report.md']);
    const [run] = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report).runs;
    expect(run!.configuration).toBe('mpi');
    // 256 samples in batches of 32, every gradient all-reduced between the two ranks.
    expect(run!.pluginReports.mpi).toMatchObject({ rank: 0, size: 2, steps: 8 });
    expect(run!.pluginReports.mpi!.bytes).toBeGreaterThan(0);
    // The two ranks on this host share its cores.
    expect(run!.threads).toBe(Math.max(1, Math.floor(availableParallelism() / 2)));

    const singleOut = mkdtempSync(join(tmpdir(), 'trainhooks-cli-single-'));
    const single = await runCli(['train', ...args, '--out', singleOut]);
    expect(single.code, single.stderr).toBe(0);
    const [alone] = (JSON.parse(readFileSync(join(singleOut, 'report.json'), 'utf8')) as Report).runs;
    // Data parallelism reproduces full-batch training (weights within 1e-4, plugin-mpi's tests): at most one of 128 test images may differ.
    expect(Math.abs(run!.finalAccuracy - alone!.finalAccuracy)).toBeLessThanOrEqual(1 / 128);
  });
});
