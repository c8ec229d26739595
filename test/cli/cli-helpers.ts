// Runs the trainhooks command from source (tsx), as `npm run trainhooks -- …` does.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = resolve(ROOT, 'packages/cli/src/bin.ts');

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `onStdoutLine` may return a function to call on the child (e.g. to send it a signal). */
export function runCli(args: string[], onStdoutLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) onStdoutLine?.(line, child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** A tiny, fast workload: mlp on 256 embedded samples. */
export const TINY = ['--model', 'mlp', '--data', 'subset', '--train-limit', '256', '--test-limit', '128', '--batch-size', '32', '--backend', 'wasm'];
