// The child process of an ablation: runs one configuration of one seed and streams its RunEvents,
// then its RunResult, to the parent as JSON lines on stdout. A process per run keeps runs from sharing
// tfjs' global engine, memory or worker pools, and lets two run side by side (--parallel 2).
import { runTraining } from './run/run-training.js';
import type { RunSpec } from './run/run-spec.js';

const send = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as RunSpec;
  const result = await runTraining(spec, send);
  // Exit once the result is flushed: a plugin's worker pool or the wasm runtime must not keep us alive.
  process.stdout.write(`${JSON.stringify({ type: 'result', result })}\n`, () => process.exit(0));
}

// No top-level await: the CJS build of this file must load too.
main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ type: 'error', message: (error as Error).stack ?? String(error) })}\n`, () => process.exit(1));
});
