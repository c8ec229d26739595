// What the terminal shows while an ablation runs: progress bars on a TTY (the whole ablation with its
// ETA, and one bar per running configuration: seed, epoch, step, loss, ETA), plain lines per epoch
// when stderr is not a terminal, JSON lines for machines, or nothing (--quiet).
import cliProgress from 'cli-progress';
import type { AblationEvent, AblationJob } from '../ablation/run-ablation.js';

export type ProgressMode = 'bars' | 'lines' | 'json-lines' | 'quiet';

export interface ProgressView {
  readonly listen: (event: AblationEvent) => void;
  /** A message that must not garble the bars. */
  readonly log: (message: string) => void;
  readonly stop: () => void;
}

export function progressMode(options: { quiet?: boolean; jsonLines?: boolean }): ProgressMode {
  if (options.jsonLines) return 'json-lines';
  if (options.quiet) return 'quiet';
  return process.stderr.isTTY ? 'bars' : 'lines';
}

export function createProgressView(mode: ProgressMode): ProgressView {
  if (mode === 'json-lines') {
    return { listen: (event) => process.stdout.write(`${JSON.stringify(flatten(event))}\n`), log: (message) => process.stdout.write(`${JSON.stringify({ type: 'message', message })}\n`), stop: () => {} };
  }
  if (mode === 'quiet') return { listen: () => {}, log: () => {}, stop: () => {} };
  if (mode === 'lines') return linesView();
  return barsView();
}

/** A run event with its job's identity, not the whole spec (--json-lines stays short). */
function flatten(event: AblationEvent): Record<string, unknown> {
  if (event.type === 'plan') return { type: 'plan', runs: event.jobs.map(({ index, configuration, seed }) => ({ index, configuration, seed })) };
  const { job, ...rest } = event;
  return { ...rest, type: event.type, run: job.index, configuration: job.configuration, seed: job.seed };
}

const label = (job: AblationJob) => `${job.configuration} seed ${job.seed}`;
/** 3, or 2.50 when evaluated within an epoch. */
const epochs = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));

function runEndLine(event: Extract<AblationEvent, { type: 'run-end' }>): string {
  const { result } = event;
  return `done ${label(event.job)}: test acc ${result.finalAccuracy.toFixed(4)}, ${result.trainingSeconds.toFixed(1)} s training, ${result.samplesPerSecond.toFixed(0)} samples/s`;
}

function linesView(): ProgressView {
  let total = 0;
  let finished = 0;
  const log = (message: string) => console.error(message);
  return {
    log,
    stop: () => {},
    listen: (event) => {
      if (event.type === 'plan') total = event.jobs.length;
      else if (event.type === 'run-start') log(`[run ${event.job.index + 1}/${total}] ${label(event.job)}: starting`);
      else if (event.type === 'run-end') log(`[${++finished}/${total} finished] ${runEndLine(event)}`);
      else if (event.type === 'run-failed') log(`[${++finished}/${total} finished] FAILED ${label(event.job)}: ${event.message}`);
      else if (event.type === 'run' && event.event.type === 'epoch') {
        const { point } = event.event;
        log(`  ${label(event.job)} epoch ${epochs(point.epoch)}: test acc ${point.testAccuracy.toFixed(4)}, ${point.seconds.toFixed(1)} s, frozen ${point.frozenPrefix}`);
      } else if (event.type === 'run' && event.event.type === 'log' && !event.event.message.startsWith('[trainhooks] backend')) log(`  ${label(event.job)}: ${event.event.message}`);
    },
  };
}

function barsView(): ProgressView {
  const multibar = new cliProgress.MultiBar(
    { clearOnComplete: false, hideCursor: true, etaBuffer: 50, format: '{name} |{bar}| {percentage}% | {detail} | ETA {eta_formatted}', autopadding: true },
    cliProgress.Presets.shades_classic,
  );
  let jobs: readonly AblationJob[] = [];
  let overall: cliProgress.SingleBar | null = null;
  let stepsPerRun = 0;
  let finished = 0;
  const stepsDone = new Map<number, number>();
  const bars = new Map<number, cliProgress.SingleBar>();
  const updateOverall = () => {
    const done = [...stepsDone.values()].reduce((a, b) => a + b, 0);
    overall?.update(done, { detail: `runs ${finished}/${jobs.length}` });
  };
  const log = (message: string) => multibar.log(`${message}\n`);
  return {
    log,
    stop: () => multibar.stop(),
    listen: (event) => {
      if (event.type === 'plan') {
        jobs = event.jobs;
        return;
      }
      const { job } = event;
      if (event.type === 'run-start') {
        bars.set(job.index, multibar.create(1, 0, { name: label(job), detail: 'starting' }));
      } else if (event.type === 'run-end' || event.type === 'run-failed') {
        finished++;
        stepsDone.set(job.index, stepsPerRun);
        const bar = bars.get(job.index);
        if (bar) multibar.remove(bar);
        bars.delete(job.index);
        log(event.type === 'run-end' ? runEndLine(event) : `FAILED ${label(job)}: ${event.message}`);
        updateOverall();
      } else if (event.type === 'run') {
        const run = event.event;
        const bar = bars.get(job.index);
        if (run.type === 'start') {
          stepsPerRun = run.epochs * run.stepsPerEpoch;
          if (!overall) overall = multibar.create(stepsPerRun * jobs.length, 0, { name: 'ablation', detail: `runs 0/${jobs.length}` });
          bar?.setTotal(stepsPerRun);
        } else if (run.type === 'step') {
          const done = (run.epoch - 1) * run.steps + run.step;
          stepsDone.set(job.index, done);
          bar?.update(done, { detail: `epoch ${run.epoch} step ${run.step}/${run.steps} loss ${run.loss.toFixed(4)}` });
          updateOverall();
        } else if (run.type === 'epoch') {
          log(`  ${label(job)} epoch ${epochs(run.point.epoch)}: test acc ${run.point.testAccuracy.toFixed(4)}, frozen ${run.point.frozenPrefix}`);
        } else if (run.type === 'log' && !run.message.startsWith('[trainhooks] backend')) {
          log(`  ${label(job)}: ${run.message}`);
        }
      }
    },
  };
}
