// The numbers of report.md / report.json, per configuration, over seeds. Each seed's run is compared
// with the baseline run of the same seed: target = that baseline's final test accuracy − targetDrop
// points; speedup = baseline's time to target / the configuration's. A run that never reaches the
// target counts as speedup 0 ("missed"), so a median over seeds cannot hide a miss. Time ratios carry
// the noise of the machine: the spread of the baselines' times over seeds (same work, other data order).
import type { RunResult } from '../run/run-training.js';
import { median, spread, timeToAccuracy, type Spread } from './statistics.js';

export interface SeedComparison {
  readonly seed: number;
  /** The baseline's final accuracy − the drop (null: the baseline of this seed did not finish). */
  readonly targetAccuracy: number | null;
  readonly secondsToTarget: number | null;
  /** null: no baseline for the seed; 0: this configuration missed the target. */
  readonly speedup: number | null;
}

export interface ConfigurationSummary {
  readonly configuration: string;
  readonly plugins: readonly string[];
  readonly runs: number;
  readonly seeds: readonly SeedComparison[];
  /** Over seeds with a baseline; null when none has. */
  readonly speedup: Spread | null;
  readonly missedTarget: number;
  readonly secondsToTarget: number | null;
  /** The baseline's training time / this configuration's, per seed; null when no seed has a baseline. */
  readonly wholeRun: Spread | null;
  /**
   * How far the baselines' training times spread over seeds, (max − min) / median: the machine's noise
   * for a time ratio of this report. null with fewer than two baseline runs (then nothing says it).
   */
  readonly timeNoise: number | null;
  /**
   * Plugins ran, each says (describe()) it speeds training by skipping work or not at all, and none
   * skipped any: its time ratio is noise, not a speedup. A plugin that says nothing is not judged.
   */
  readonly skippedNothing: boolean;
  /** A plugin that sends gradients between processes ran, so "not communicated" counts a saving. */
  readonly communicates: boolean;
  /** The trainer's measured step time (telemetry p50), median over seeds, ms. */
  readonly stepMs: number;
  readonly finalAccuracy: Spread;
  readonly trainingSeconds: number;
  readonly samplesPerSecond: number;
  /** Shares of the baseline-equivalent work, medians over seeds. */
  readonly backwardSkippedShare: number;
  readonly forwardSkippedShare: number;
  /** Gradient bytes a data-parallel all-reduce would not have sent, per run (median). */
  readonly bytesNotCommunicated: number;
  readonly bytesNotCommunicatedShare: number;
}

export function summarise(results: readonly RunResult[], configurations: readonly string[], targetDropPoints: number): ConfigurationSummary[] {
  const baselines = results.filter((run) => run.configuration === 'baseline');
  const baselineBySeed = new Map(baselines.map((run) => [run.spec.seed, run]));
  const baselineTimes = spread(baselines.map((run) => run.trainingSeconds));
  const timeNoise = baselines.length >= 2 ? (baselineTimes.max - baselineTimes.min) / baselineTimes.median : null;
  return configurations
    .map((configuration) => results.filter((run) => run.configuration === configuration).sort((a, b) => a.spec.seed - b.spec.seed))
    .filter((runs) => runs.length > 0)
    .map((runs) => {
      const seeds = runs.map((run): SeedComparison => {
        const baseline = baselineBySeed.get(run.spec.seed);
        if (!baseline) return { seed: run.spec.seed, targetAccuracy: null, secondsToTarget: null, speedup: null };
        const target = baseline.finalAccuracy - targetDropPoints / 100;
        const mine = timeToAccuracy(run.points, target);
        const theirs = timeToAccuracy(baseline.points, target);
        return { seed: run.spec.seed, targetAccuracy: target, secondsToTarget: mine, speedup: mine === null || theirs === null ? 0 : theirs / mine };
      });
      const compared = seeds.filter((seed) => seed.speedup !== null);
      const wholeRuns = runs.flatMap((run) => {
        const baseline = baselineBySeed.get(run.spec.seed);
        return baseline ? [baseline.trainingSeconds / run.trainingSeconds] : [];
      });
      const plugins = runs[0]!.spec.plugins;
      const skipped = runs.some((run) => run.work.backwardFlopsSkipped > 0 || run.work.forwardFlopsSkipped > 0);
      const descriptions = plugins.map((name) => runs[0]!.pluginDescriptions?.[name] ?? null);
      const reached = seeds.map((seed) => seed.secondsToTarget).filter((seconds): seconds is number => seconds !== null);
      return {
        configuration: runs[0]!.configuration,
        plugins,
        runs: runs.length,
        seeds,
        speedup: compared.length > 0 ? spread(compared.map((seed) => seed.speedup!)) : null,
        missedTarget: compared.filter((seed) => seed.speedup === 0).length,
        secondsToTarget: reached.length > 0 ? median(reached) : null,
        wholeRun: wholeRuns.length > 0 ? spread(wholeRuns) : null,
        timeNoise,
        skippedNothing: plugins.length > 0 && !skipped && descriptions.every((description) => description !== null && description.speedup !== 'parallel'),
        communicates: descriptions.some((description) => description?.communicates === true),
        stepMs: median(runs.map((run) => run.stepMsMedian)),
        finalAccuracy: spread(runs.map((run) => run.finalAccuracy)),
        trainingSeconds: median(runs.map((run) => run.trainingSeconds)),
        samplesPerSecond: median(runs.map((run) => run.samplesPerSecond)),
        backwardSkippedShare: median(runs.map((run) => share(run.work.backwardFlopsSkipped, run.work.backwardFlops))),
        forwardSkippedShare: median(runs.map((run) => share(run.work.forwardFlopsSkipped, run.work.forwardFlops))),
        bytesNotCommunicated: median(runs.map((run) => run.work.gradientBytesNotCommunicated)),
        bytesNotCommunicatedShare: median(runs.map((run) => share(run.work.gradientBytesNotCommunicated, run.work.gradientBytes))),
      };
    });
}

function share(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}
