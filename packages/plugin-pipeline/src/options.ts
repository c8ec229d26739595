import { availableParallelism } from 'node:os';
import { optionChecks, type OptionChecks } from '@trainhooks/core-hooks';

/** Order of forward (F) and backward (B) work on each stage within one batch. */
export type PipelineSchedule = 'gpipe' | '1f1b';

export interface PipelineOptions {
  /** Worker threads the model is cut into (each runs a contiguous run of units). */
  stages: number;
  /** Micro-batches a batch is split into; they flow through the stages one behind the other. */
  microBatches: number;
  /** 'gpipe': all forwards, then all backwards (fill-drain). '1f1b': one forward, one backward in turn. */
  schedule: PipelineSchedule;
  /** Threads of each stage's own backend (wasm); default: the machine's cores shared out over the stages. */
  threadsPerStage: number;
  /** A step no stage answers within this many ms fails with an error naming the stage (no hang). */
  stepTimeoutMs: number;
  /** Module each stage imports before building its slice (register custom layers, etc.); absolute path or package name. */
  workerSetup: string | null;
  /** Timed repetitions per unit when profiling forward and backward cost. */
  profileRepeats: number;
  /**
   * Dense (2-D matMul) weight gradients once per batch over all micro-batches' rows, after a stage's
   * last backward, instead of one small product per micro-batch (the B/W split of zero-bubble
   * pipelines). Keeps each micro-batch's layer inputs and output gradients until then.
   */
  deferWeightGradients: boolean;
  /**
   * 'auto': when the pipeline would not make steps faster than the local trainer on the same cores —
   * its plan predicts under `minSpeedup`, or its first measured steps do — the run goes on with the
   * local trainer, and the plugin says so (event, warning, report). 'never': always pipeline.
   */
  fallback: 'auto' | 'never';
  /** Least speedup over the local trainer (planned, then measured) that keeps the pipeline running. */
  minSpeedup: number;
  /** Steps timed of each kind (pipelined after one warm-up, then local) for the measured comparison. */
  checkSteps: number;
}

export const DEFAULT_PIPELINE_OPTIONS: Readonly<Omit<PipelineOptions, 'threadsPerStage'>> = Object.freeze({
  stages: 2,
  microBatches: 4,
  schedule: '1f1b',
  stepTimeoutMs: 120_000,
  workerSetup: null,
  profileRepeats: 3,
  deferWeightGradients: true,
  fallback: 'auto',
  minSpeedup: 1.05,
  checkSteps: 3,
});

const OPTION_NAMES = [...Object.keys(DEFAULT_PIPELINE_OPTIONS), 'threadsPerStage'];

const check: OptionChecks = optionChecks('plugin-pipeline');

/** Defaults filled in and every option checked, with messages naming option, value and range. */
export function resolvePipelineOptions(options: Partial<PipelineOptions> = {}): PipelineOptions {
  check.names(options, OPTION_NAMES);
  const stages = options.stages ?? DEFAULT_PIPELINE_OPTIONS.stages;
  check.integer('stages', stages, 1);
  const resolved: PipelineOptions = {
    ...DEFAULT_PIPELINE_OPTIONS,
    threadsPerStage: Math.max(1, Math.floor(availableParallelism() / stages)),
    ...options,
  };
  for (const key of ['microBatches', 'threadsPerStage', 'stepTimeoutMs', 'profileRepeats', 'checkSteps'] as const) check.integer(key, resolved[key], 1);
  check.boolean('deferWeightGradients', resolved.deferWeightGradients);
  check.oneOf('schedule', resolved.schedule, ['gpipe', '1f1b']);
  check.oneOf('fallback', resolved.fallback, ['auto', 'never']);
  if (typeof resolved.minSpeedup !== 'number' || !(resolved.minSpeedup > 0) || !Number.isFinite(resolved.minSpeedup)) check.fail('minSpeedup', resolved.minSpeedup, 'a finite number > 0');
  if (resolved.workerSetup !== null && (typeof resolved.workerSetup !== 'string' || resolved.workerSetup === '')) {
    check.fail('workerSetup', resolved.workerSetup, 'null or a module path');
  }
  return resolved;
}
