// `npm run bench -- <name> [options]`: the benchmarks. Each prints a markdown table to paste into
// BENCHMARKS.md and writes its raw numbers to .bench-out/<name>.json.
import { runBackendBenchmark } from './backend.js';
import { runCacheBenchmark } from './cache.js';
import { runFinetuneBenchmark } from './finetune.js';
import { runFreezeBenchmark } from './freeze.js';
import { runMpiBenchmark } from './mpi.js';
import { runOverheadBenchmark } from './overhead.js';
import { runPipelineBenchmark } from './pipeline.js';
import { runPruneBenchmark } from './prune.js';
import { runPruneUpdateBenchmark } from './prune-update.js';

const BENCHMARKS: Record<string, (argv: string[]) => Promise<void>> = {
  overhead: runOverheadBenchmark,
  backend: runBackendBenchmark,
  prune: runPruneBenchmark,
  freeze: runFreezeBenchmark,
  finetune: runFinetuneBenchmark,
  cache: runCacheBenchmark,
  'prune-update': runPruneUpdateBenchmark,
  pipeline: runPipelineBenchmark,
  mpi: runMpiBenchmark,
};

const [name, ...rest] = process.argv.slice(2);
const benchmark = name ? BENCHMARKS[name] : undefined;
if (!benchmark) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [options]`);
  process.exit(2);
}
await benchmark(rest);
