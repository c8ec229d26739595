// (c) An ablation written in code with the library API the `trainhooks` command uses: the same runs
// (each a child process, seeds interleaved), the same summary, the same report.md / .json / .html.
// Run: npx tsx examples/src/adoption/ablation-in-code.ts
import { buildReportData, configurationLabel, configurationMatrix, DEFAULT_RUN_SPEC, markdownTable, runAblation, summaryTable, writeReport } from '@trainhooks/cli/internal';

const base = { ...DEFAULT_RUN_SPEC, model: 'mlp', epochs: 2, learningRate: 0.001, trainLimit: 1000, testLimit: 500 };
const configurations = configurationMatrix('one-off', ['freeze', 'grad-prune']); // baseline, both, each alone
const seeds = [1, 2];
const targetDropPoints = 0.5;
// Two runs at once (one per core of a 2-core machine): shorter wall time; each run shares the machine.
const parallel = 2;

const outcome = await runAblation(
  { base, configurations, seeds, parallel },
  { listen: (event) => event.type === 'run-end' && console.log(`${event.job.configuration} seed ${event.job.seed}: acc ${event.result.finalAccuracy.toFixed(4)}`) },
);
const settings = { command: 'ablate' as const, base, configurations: configurations.map(configurationLabel), seeds, parallel, targetDropPoints };
const data = buildReportData(settings, outcome.results, outcome);
console.log(markdownTable(summaryTable(data.summary, targetDropPoints)));
const paths = await writeReport(data, 'trainhooks-out/ablation-in-code');
console.log(`report: ${paths.html}`);
