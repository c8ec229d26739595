// `npm run soak [-- --steps 3000 --checkpoint-every 200 --threads 2]`: the long soak, printed as a
// markdown table for BENCHMARKS.md (raw numbers in .bench-out/soak.json).
import { parseArgs } from 'node:util';
import { setupBackend } from '@trainhooks/backend';
import { median, writeResult } from '../bench/stats.js';
import { runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '3000' },
    'checkpoint-every': { type: 'string', default: '200' },
    samples: { type: 'string', default: '4096' },
    'batch-size': { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
  },
});
const backend = await setupBackend('wasm', { threads: Number(values.threads) });
const result = await runSoak({ steps: Number(values.steps), checkpointEvery: Number(values['checkpoint-every']), samples: Number(values.samples), batchSize: Number(values['batch-size']) });
writeResult('soak', { backend: backend.choice, threads: backend.threads, options: values, result });
const sorted = [...result.checkpointMs].sort((a, b) => a - b);
const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
const [firstTensors, lastTensors] = [result.tensorsAtCheckpoints[0]!, result.tensorsAtCheckpoints.at(-1)!];
const [firstRss, lastRss] = [result.rssMiB[0]!, result.rssMiB.at(-1)!];
console.log(`| steps | checkpoints | tensors at the first / last checkpoint | RSS at the first / last checkpoint (MiB) | checkpoint write p50 / p99 (ms) | frozen prefix at the end | wall (s) |`);
console.log(`|---|---|---|---|---|---|---|`);
console.log(
  `| ${result.steps} | ${result.checkpointMs.length} | ${firstTensors} / ${lastTensors} | ${firstRss.toFixed(0)} / ${lastRss.toFixed(0)} | ${median(result.checkpointMs).toFixed(1)} / ${p99.toFixed(1)} | ${result.frozenPrefix} | ${result.seconds.toFixed(0)} |`,
);
console.log(`\nbackend ${backend.choice}, ${backend.threads} thread(s); tensors after each checkpoint: ${result.tensorsAtCheckpoints.join(' ')}`);
process.exit(0);
