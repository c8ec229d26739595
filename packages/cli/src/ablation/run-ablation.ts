// An ablation: every configuration of the matrix, for every seed, on the same data. Seeds are
// interleaved across configurations (seed 1 of every configuration, then seed 2, …, the order rotated
// per seed) so machine drift hits all configurations alike. Each run is a child process; with
// parallel > 1 that many run side by side (wall time over purity: they share the machine).
import { availableParallelism } from 'node:os';
import type { PluginRef } from '../plugins/plugin-names.js';
import type { RunEvent } from '../run/run-events.js';
import type { RunResult } from '../run/run-training.js';
import { configurationLabel, type RunSpec } from '../run/run-spec.js';
import { mpiLaunch } from '../run/mpi-launch.js';
import { runInChild, RunInterrupted, type ChildRun } from './child-run.js';

export interface AblationSpec {
  /** Everything but the plugins and the seed, shared by every run. */
  readonly base: Omit<RunSpec, 'plugins' | 'seed'>;
  /** The configurations (the baseline, [], first). */
  readonly configurations: ReadonlyArray<readonly PluginRef[]>;
  readonly seeds: readonly number[];
  /** Runs at once (1: one after the other). */
  readonly parallel: number;
}

export interface AblationJob {
  readonly index: number;
  readonly configuration: string;
  readonly seed: number;
  readonly spec: RunSpec;
}

export type AblationEvent =
  | { readonly type: 'plan'; readonly jobs: readonly AblationJob[] }
  | { readonly type: 'run-start'; readonly job: AblationJob }
  | { readonly type: 'run'; readonly job: AblationJob; readonly event: RunEvent }
  | { readonly type: 'run-end'; readonly job: AblationJob; readonly result: RunResult }
  | { readonly type: 'run-failed'; readonly job: AblationJob; readonly message: string };

export interface AblationFailure {
  readonly configuration: string;
  readonly seed: number;
  readonly message: string;
}

export interface AblationOutcome {
  readonly results: RunResult[];
  readonly failures: AblationFailure[];
  /** True when the signal stopped it: results hold the runs that finished. */
  readonly interrupted: boolean;
}

/**
 * wasm threads per run: as given, or the machine's cores shared out among the runs that go side by
 * side (two runs on 2 cores: one thread each), and among the MPI ranks on this host, so that neither
 * fights over cores.
 */
export function threadsPerRun(spec: Pick<AblationSpec, 'base' | 'parallel'>, launch = mpiLaunch()): number {
  return spec.base.threads ?? Math.max(1, Math.floor(availableParallelism() / (spec.parallel * (launch?.localSize ?? 1))));
}

/** The runs in the order they start. */
export function planJobs(spec: AblationSpec): AblationJob[] {
  const jobs: AblationJob[] = [];
  const threads = threadsPerRun(spec);
  spec.seeds.forEach((seed, round) => {
    const count = spec.configurations.length;
    for (let k = 0; k < count; k++) {
      const plugins = spec.configurations[(k + round) % count]!;
      jobs.push({ index: jobs.length, configuration: configurationLabel(plugins), seed, spec: { ...spec.base, threads, plugins: [...plugins], seed } });
    }
  });
  return jobs;
}

export async function runAblation(
  spec: AblationSpec,
  options: { listen?: (event: AblationEvent) => void; signal?: AbortSignal; onResult?: (results: readonly RunResult[]) => void } = {},
): Promise<AblationOutcome> {
  const listen = options.listen ?? (() => {});
  const jobs = planJobs(spec);
  listen({ type: 'plan', jobs });
  const results: RunResult[] = [];
  const failures: AblationFailure[] = [];
  const running = new Set<ChildRun>();
  let next = 0;
  const stopAll = () => running.forEach((run) => run.stop());
  options.signal?.addEventListener('abort', stopAll, { once: true });

  const worker = async () => {
    while (next < jobs.length && !options.signal?.aborted) {
      const job = jobs[next++]!;
      listen({ type: 'run-start', job });
      const child = runInChild(job.spec, (event) => listen({ type: 'run', job, event }));
      running.add(child);
      try {
        const result = await child.result;
        results.push(result);
        listen({ type: 'run-end', job, result });
        options.onResult?.(results);
      } catch (error) {
        if (error instanceof RunInterrupted || options.signal?.aborted) break;
        const message = (error as Error).message;
        failures.push({ configuration: job.configuration, seed: job.seed, message });
        listen({ type: 'run-failed', job, message });
      } finally {
        running.delete(child);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(spec.parallel, jobs.length)) }, worker));
  options.signal?.removeEventListener('abort', stopAll);
  return { results, failures, interrupted: options.signal?.aborted ?? false };
}
