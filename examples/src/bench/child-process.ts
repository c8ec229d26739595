// Benchmarks measure in child processes (a process starts wasm with one thread count; an MPI job is
// its own processes): each child prints its result as the last JSON line on stdout.
import { spawn } from 'node:child_process';

/** Runs `command` and resolves to the last stdout line that is a JSON object; rejects on a non-zero exit or none. */
export function runJsonChild<T>(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.trim().split('\n').reverse().find((candidate) => candidate.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}

/** This benchmark script again, as a child: `node [execArgv] <script> <benchmark> …args`. */
export function benchChildArgs(benchmark: string, args: readonly string[]): string[] {
  return [...process.execArgv, process.argv[1]!, benchmark, ...args];
}
