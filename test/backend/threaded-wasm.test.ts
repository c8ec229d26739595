// The threaded wasm backend from the outside: each case is its own process, since tfjs starts a
// backend once per process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('./fixtures/threaded-wasm-script.ts', import.meta.url));

function runScript(mode: string): Promise<{ code: number | null; stdout: string; stderr: string; result: Record<string, unknown> | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // A script that hangs on its threads fails here instead of hanging the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      resolve({ code, stdout, stderr, result: line ? (JSON.parse(line.slice(7)) as Record<string, unknown>) : null });
    });
  });
}

describe('threaded wasm backend', () => {
  it('starts 2 threads, computes, leaves the process error handlers alone and the script exits by itself', async () => {
    const run = await runScript('threads');
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toMatchObject({ threads: 2, info: 2, product: 64, warnings: [], listenersAdded: 0 });
    expect(run.result!.workers).toBeGreaterThan(0);
  });

  it('falls back to one thread with a warning when a pthread worker cannot load, without hanging', async () => {
    const run = await runScript('broken-worker');
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toMatchObject({ threads: 1, product: 64, workers: 0, listenersAdded: 0 });
    expect(run.result!.warnings).toEqual([expect.stringMatching(/multi-threaded wasm did not start \(a pthread worker failed to start: unloadable pthread script\); using one thread/)]);
  });

  it('ends every pthread worker on disposeBackend', async () => {
    const run = await runScript('dispose');
    expect(run.code, run.stderr).toBe(0);
    expect(run.result!.workers).toBeGreaterThan(0);
    expect(run.result!.workersAfterDispose).toBe(0);
  });

  it("reports a program's own uncaught error without printing the wasm glue", async () => {
    const run = await runScript('uncaught');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('an ordinary mistake of the program');
    // The glue's rethrowing listener would print its minified source (tens of KB on one line) first.
    expect(run.stderr.length).toBeLessThan(3000);
    expect(run.stderr).not.toContain('GROWABLE_HEAP');
  });
});
