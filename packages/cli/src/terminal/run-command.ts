// What `train` and `ablate` do once their arguments are checked: run the ablation (a train is an
// ablation of one configuration and one seed), rewrite the report after every finished run, print
// the table and where the report is. Ctrl-C stops the runs and keeps the finished ones. Under mpirun
// every rank runs this; only rank 0 prints and writes the report (the ranks' weights are the same).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AblationSpec } from '../ablation/run-ablation.js';
import { runAblation } from '../ablation/run-ablation.js';
import { buildReportData, type ReportSettings } from '../report/report-data.js';
import { markdownTable, noiseNote, summaryTable } from '../report/summary-table.js';
import { writeReport, type ReportPaths } from '../report/write-report.js';
import { configurationLabel } from '../run/run-spec.js';
import { mpiLaunch } from '../run/mpi-launch.js';
import type { RunResult } from '../run/run-training.js';
import { SIGNAL_EXIT_CODES, type StopSignal } from '../run/stop-signals.js';
import { createProgressView, type ProgressMode } from './progress-view.js';

export interface CommandOptions {
  readonly command: 'train' | 'ablate';
  readonly spec: AblationSpec;
  readonly targetDropPoints: number;
  readonly out: string;
  readonly mode: ProgressMode;
}

/** Resolves to the process exit code: 0, 1 when a run failed, 130 when interrupted. */
export async function runCommand({ command, spec, targetDropPoints, out, mode: asked }: CommandOptions): Promise<number> {
  const reporting = (mpiLaunch()?.rank ?? 0) === 0;
  const mode = reporting ? asked : 'quiet';
  const view = createProgressView(mode);
  const settings: ReportSettings = {
    command,
    base: spec.base,
    configurations: spec.configurations.map(configurationLabel),
    seeds: spec.seeds,
    parallel: spec.parallel,
    targetDropPoints,
  };
  const controller = new AbortController();
  const checkpoint = spec.base.checkpoint ?? null;
  /** The exit code of the signal that stopped the runs (130 SIGINT, 143 SIGTERM). */
  let interruptedWith: number = SIGNAL_EXIT_CODES.SIGINT;
  const onInterrupt = (signal: StopSignal) => {
    interruptedWith = SIGNAL_EXIT_CODES[signal];
    view.log(
      checkpoint
        ? `interrupted: the run saves a checkpoint at its next step and stops (Ctrl-C again to quit at once)`
        : 'interrupted: stopping the runs; the finished ones are kept (Ctrl-C again to quit at once)',
    );
    controller.abort();
    process.once('SIGINT', () => process.exit(SIGNAL_EXIT_CODES.SIGINT));
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);

  // Reports are rewritten after every finished run, one write at a time, so a crash keeps what finished.
  let writing: Promise<ReportPaths | null> = Promise.resolve(null);
  const save = (results: readonly RunResult[], outcome = { interrupted: false, failures: [] as never[] }) =>
    reporting && (writing = writing.then(() => writeReport(buildReportData(settings, results, outcome), out)));

  let outcome;
  try {
    outcome = await runAblation(spec, { listen: view.listen, signal: controller.signal, onResult: (results) => void save(results) });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    process.removeListener('SIGTERM', onInterrupt);
    view.stop();
  }
  await writing;
  if (outcome.interrupted && checkpoint && existsSync(join(checkpoint.dir, 'checkpoint.json'))) {
    console.error(`checkpoint: ${checkpoint.dir} (continue with --resume ${checkpoint.dir})`);
  }
  if (!reporting) {
    for (const failure of outcome.failures) console.error(`${failure.configuration} seed ${failure.seed}: ${failure.message}`);
    return outcome.interrupted ? interruptedWith : outcome.failures.length > 0 || outcome.results.length === 0 ? 1 : 0;
  }
  if (outcome.results.length === 0) {
    console.error(outcome.interrupted ? 'interrupted before any run finished; no report written' : 'no run finished; no report written');
    for (const failure of outcome.failures) console.error(`${failure.configuration} seed ${failure.seed}: ${failure.message}`);
    return outcome.interrupted ? interruptedWith : 1;
  }
  const data = buildReportData(settings, outcome.results, outcome);
  const paths = await writeReport(data, out);
  if (mode === 'json-lines') {
    process.stdout.write(`${JSON.stringify({ type: 'report', paths, summary: data.summary })}\n`);
  } else {
    if (mode !== 'quiet') {
      const note = noiseNote(data.summary);
      console.log(`\n${markdownTable(summaryTable(data.summary, targetDropPoints))}\n${note ? `${note}\n` : ''}`);
    }
    console.log(`backend ${data.backends.join(', ')}; report: ${paths.html} (also report.md, report.json)`);
  }
  if (outcome.interrupted) return interruptedWith;
  return outcome.failures.length > 0 ? 1 : 0;
}
