// `npm run bench -- finetune`: fine-tuning, the workload where skipping work should pay. A backbone
// pretrained on Fashion-MNIST (packages/cli/data/pretrained, `npm run pretrain`) gets a fresh head and is
// fine-tuned on the real MNIST digits (`--data digits`: 8k train / 2k test). Per model and optimizer, one
// ablation of the CLI (same data, same seeds, runs interleaved): full fine-tuning (the baseline), head-only
// (the backbone frozen from step 0), and each plugin configuration with default options. Reported per
// configuration, over seeds (median, min–max): time to the baseline's final accuracy − 0.3 pt against the
// baseline's (a miss counts as 0), the whole run against the baseline's, and final accuracy against it.
//
//   npm run bench -- finetune [--models cnn,resnet] [--optimizers momentum,adam] [--seeds 3] [--epochs 8]
//                             [--parallel 2] [--configs "head-only;freeze;freeze+act-cache;…"]
//                             [--plugin-options '{"freeze":{"effectThreshold":0.01}}']
import { parseArgs } from 'node:util';
import {
  configurationMatrix,
  runAblation,
  spread,
  summarise,
  type OptimizerName,
  type RunResult,
  type RunSpec,
  type Spread,
} from '@trainhooks/cli/internal';
import { writeResult } from './stats.js';

const DEFAULT_CONFIGS = 'head-only;freeze;freeze+act-cache;grad-prune;freeze+act-cache+grad-prune';
/** The rates a user would fine-tune with: a tenth of from-scratch SGD's, Adam's default. */
const LEARNING_RATES: Partial<Record<OptimizerName, number>> = { momentum: 0.01, adam: 0.001 };
const TARGET_DROP_POINTS = 0.3;

interface Row {
  readonly model: string;
  readonly optimizer: string;
  readonly configuration: string;
  readonly runs: number;
  readonly speedupToTarget: Spread | null;
  readonly missed: number;
  readonly wholeRun: Spread | null;
  readonly finalAccuracy: Spread;
  readonly accuracyDeltaPoints: Spread | null;
  readonly trainingSeconds: number;
  readonly backwardSkippedShare: number;
  readonly forwardSkippedShare: number;
}

export async function runFinetuneBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: 'cnn,resnet' },
      optimizers: { type: 'string', default: 'momentum,adam' },
      seeds: { type: 'string', default: '3' },
      epochs: { type: 'string', default: '8' },
      parallel: { type: 'string', default: '2' },
      configs: { type: 'string', default: DEFAULT_CONFIGS },
      // JSON keyed by plugin name, as in the CLI's --plugin-options file: options to compare with the defaults.
      'plugin-options': { type: 'string', default: '{}' },
    },
  });
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
  const configurations = configurationMatrix(values.configs, []);
  const rows: Row[] = [];
  const raw: Array<{ model: string; optimizer: string; results: RunResult[] }> = [];
  for (const model of values.models.split(',')) {
    for (const optimizer of values.optimizers.split(',') as OptimizerName[]) {
      const learningRate = LEARNING_RATES[optimizer];
      if (learningRate === undefined) throw new Error(`--optimizers: no fine-tuning rate for '${optimizer}'; choose from ${Object.keys(LEARNING_RATES).join(', ')}`);
      console.error(`finetune: pretrained:${model} → digits, ${optimizer} lr ${learningRate}, ${configurations.length} configurations × ${seeds.length} seeds`);
      const outcome = await runAblation(
        {
          base: {
            model: `pretrained:${model}`,
            data: 'digits',
            pluginOptions: JSON.parse(values['plugin-options']) as RunSpec['pluginOptions'],
            epochs: Number(values.epochs),
            evalsPerEpoch: 4,
            batchSize: 64,
            optimizer,
            learningRate,
            lrSchedule: null,
            backend: 'auto',
            trainLimit: null,
            testLimit: null,
          },
          configurations,
          seeds,
          parallel: Number(values.parallel),
        },
        { listen: (event) => event.type === 'run-end' && console.error(`  ${event.job.configuration} seed ${event.job.seed}: ${event.result.finalAccuracy.toFixed(4)} in ${event.result.trainingSeconds.toFixed(1)} s`) },
      );
      for (const failure of outcome.failures) console.error(`  FAILED ${failure.configuration} seed ${failure.seed}: ${failure.message}`);
      raw.push({ model, optimizer, results: outcome.results });
      rows.push(...summariseCell(model, optimizer, outcome.results, configurations.map((c) => (c.length ? c.join('+') : 'baseline'))));
      writeResult('finetune', { settings: values, rows, raw });
      console.log(table(rows));
    }
  }
  console.log(`\n${table(rows)}\nraw: .bench-out/finetune.json`);
}

function summariseCell(model: string, optimizer: string, results: RunResult[], labels: string[]): Row[] {
  const baselines = new Map(results.filter((run) => run.configuration === 'baseline').map((run) => [run.spec.seed, run]));
  return summarise(results, labels, TARGET_DROP_POINTS).map((summary) => {
    const runs = results.filter((run) => run.configuration === summary.configuration);
    const paired = runs.map((run) => ({ run, baseline: baselines.get(run.spec.seed) })).filter((pair) => pair.baseline !== undefined);
    return {
      model,
      optimizer,
      configuration: summary.configuration,
      runs: summary.runs,
      speedupToTarget: summary.speedup,
      missed: summary.missedTarget,
      wholeRun: summary.wholeRun,
      finalAccuracy: summary.finalAccuracy,
      accuracyDeltaPoints: paired.length ? spread(paired.map(({ run, baseline }) => (run.finalAccuracy - baseline!.finalAccuracy) * 100)) : null,
      trainingSeconds: summary.trainingSeconds,
      backwardSkippedShare: summary.backwardSkippedShare,
      forwardSkippedShare: summary.forwardSkippedShare,
    };
  });
}

function formatSpread(value: Spread | null, digits: number, unit: string): string {
  if (!value) return '–';
  const f = (x: number) => `${x.toFixed(digits)}${unit}`;
  return value.min === value.max ? f(value.median) : `${f(value.median)} (${f(value.min)} – ${f(value.max)})`;
}

function table(rows: readonly Row[]): string {
  const header = '| model | optimizer | configuration | runs | to full fine-tuning − 0.3 pt | missed | whole run | final acc | Δ acc (pt) | s (median) | backward skipped | forward skipped |';
  const lines = rows.map((row) =>
    [
      row.model,
      row.optimizer,
      row.configuration,
      row.runs,
      row.speedupToTarget && row.speedupToTarget.median > 0 ? formatSpread(row.speedupToTarget, 2, '×') : `missed${row.speedupToTarget ? ` (${formatSpread(row.speedupToTarget, 2, '×')})` : ''}`,
      `${row.missed}/${row.runs}`,
      formatSpread(row.wholeRun, 2, '×'),
      formatSpread(row.finalAccuracy, 4, ''),
      formatSpread(row.accuracyDeltaPoints, 2, ''),
      row.trainingSeconds.toFixed(1),
      `${(row.backwardSkippedShare * 100).toFixed(1)} %`,
      `${(row.forwardSkippedShare * 100).toFixed(1)} %`,
    ].join(' | '),
  );
  return [header, `|${' --- |'.repeat(12)}`, ...lines.map((line) => `| ${line} |`)].join('\n');
}

