// Everything report.json holds: how the ablation was run, on what, the summary, and every run raw.
import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import type { AblationFailure } from '../ablation/run-ablation.js';
import type { RunResult } from '../run/run-training.js';
import type { RunSpec } from '../run/run-spec.js';
import { summarise, type ConfigurationSummary } from './summary.js';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
}

export interface ReportSettings {
  readonly command: 'train' | 'ablate';
  readonly base: Omit<RunSpec, 'plugins' | 'seed'>;
  readonly configurations: readonly string[];
  readonly seeds: readonly number[];
  readonly parallel: number;
  readonly targetDropPoints: number;
}

export interface ReportData {
  readonly version: 1;
  readonly createdAt: string;
  readonly settings: ReportSettings;
  readonly machine: MachineInfo;
  /** The backends the runs used, with their thread counts (one, unless something differed between runs). */
  readonly backends: readonly string[];
  readonly dataSource: string | null;
  readonly trainSamples: number | null;
  readonly testSamples: number | null;
  readonly interrupted: boolean;
  readonly failures: readonly AblationFailure[];
  readonly summary: readonly ConfigurationSummary[];
  readonly runs: readonly RunResult[];
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
  };
}

export function buildReportData(
  settings: ReportSettings,
  results: readonly RunResult[],
  outcome: { readonly interrupted: boolean; readonly failures: readonly AblationFailure[] },
): ReportData {
  const first = results[0];
  return {
    version: 1,
    createdAt: new Date().toISOString(),
    settings,
    machine: machineInfo(),
    backends: [...new Set(results.map((run) => (run.threads === null ? run.backend : `${run.backend}, ${run.threads} thread${run.threads === 1 ? '' : 's'}`)))],
    dataSource: first?.dataSource ?? null,
    trainSamples: first?.trainSamples ?? null,
    testSamples: first?.testSamples ?? null,
    interrupted: outcome.interrupted,
    failures: outcome.failures,
    summary: summarise(results, settings.configurations, settings.targetDropPoints),
    runs: results,
  };
}
