// Runs one RunSpec in a child process (ablation-worker) and relays its events.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../run/run-events.js';
import type { RunResult } from '../run/run-training.js';
import type { RunSpec } from '../run/run-spec.js';

export class RunInterrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export interface ChildRun {
  readonly result: Promise<RunResult>;
  /** Ends the child; `result` then rejects with RunInterrupted. */
  stop(): void;
}

/** The worker script beside this module: dist/ablation-worker.js|.cjs when built, src/ablation-worker.ts under tsx or vitest. */
function workerCommand(): string[] {
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  for (const dir of [dirname(here), dirname(dirname(here))]) {
    for (const name of here.endsWith('.cjs') ? ['ablation-worker.cjs', 'ablation-worker.js'] : ['ablation-worker.js', 'ablation-worker.ts']) {
      const path = join(dir, name);
      if (!existsSync(path)) continue;
      if (!path.endsWith('.ts')) return [path];
      // Source: run it through tsx, which the parent already uses when its own flags name it.
      const tsxFlags = process.execArgv.some((flag) => flag.includes('tsx')) ? process.execArgv : ['--import', 'tsx'];
      return [...tsxFlags, path];
    }
  }
  throw new Error(`ablation-worker not found beside ${here}`);
}

export function runInChild(spec: RunSpec, listen: (event: RunEvent) => void): ChildRun {
  let child: ChildProcess | null = null;
  let stopped = false;
  const result = new Promise<RunResult>((resolve, reject) => {
    child = spawn(process.execPath, [...workerCommand(), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let finished: RunResult | null = null;
    let failure = '';
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) {
          if (line.trim()) listen({ type: 'log', message: line });
          continue;
        }
        const message = JSON.parse(line) as RunEvent | { type: 'result'; result: RunResult } | { type: 'error'; message: string };
        if (message.type === 'result') finished = message.result;
        else if (message.type === 'error') failure = message.message;
        else listen(message);
      }
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
      for (const line of chunk.split('\n')) if (line.trim()) listen({ type: 'log', message: line });
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (finished) resolve(finished);
      else if (stopped || signal === 'SIGINT') reject(new RunInterrupted());
      else reject(new Error(failure || `the run exited with ${code ?? signal} before its result${stderr ? `:\n${stderr}` : ''}`));
    });
  });
  return {
    result,
    stop: () => {
      stopped = true;
      child?.kill('SIGTERM');
    },
  };
}
