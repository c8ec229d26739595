import { AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncHook } from 'tapable';
import type { Batch, GradientMap, StepContext } from './step-context.js';

/**
 * Tap stages, so plugins order themselves without knowing each other. Lower runs first:
 * the freeze decision must precede the cache lookup that depends on the frozen prefix, which must
 * precede anything that only observes the step.
 */
export const HookStage = Object.freeze({
  /** decide which units are frozen (freeze plugin). */
  FREEZE: -300,
  /**
   * make the decisions taken so far identical across processes (a data-parallel plugin broadcasts
   * rank 0's frozen prefix here, before pruning and the cache build on it).
   */
  AGREE: -250,
  /** decide which variables get no gradient this step (gradient pruning). */
  PRUNE: -200,
  /** decide where the forward pass starts (activation cache). */
  CACHE: -100,
  DEFAULT: 0,
  /** move gradients between processes (data-parallel strategies). */
  COMMUNICATE: 100,
  /** read-only observers: loggers, telemetry. */
  OBSERVE: 1000,
});

export interface EpochInfo {
  readonly epoch: number;
  readonly logs: Record<string, number>;
}

/** Which step a batch is for, as selectBatch sees it. */
export interface BatchInfo {
  readonly step: number;
  readonly epoch: number;
}

/**
 * A checkpoint about to be written by `trainer.save`. A tap may set `write` to false: in a
 * data-parallel job every rank calls save, and only one (rank 0) writes the directory the others
 * will restore from.
 */
export interface CheckpointSave {
  readonly dir: string;
  readonly step: number;
  write: boolean;
}

export interface LearningRateChange {
  readonly previous: number;
  readonly next: number;
}

/** All hooks in one frozen table, grouped by phase (webpack's Compiler style). */
export function createHooks() {
  return Object.freeze({
    // lifecycle
    setup: new AsyncSeriesHook<[]>([]),
    beforeEpoch: new AsyncSeriesHook<[EpochInfo]>(['epoch']),
    afterEpoch: new AsyncSeriesHook<[EpochInfo]>(['epoch']),
    lrChange: new AsyncSeriesHook<[LearningRateChange]>(['change']),
    teardown: new AsyncSeriesHook<[]>([]),
    /** `trainer.save` is about to write (or, with write set to false by a tap, to skip writing) a checkpoint. */
    beforeSave: new AsyncSeriesHook<[CheckpointSave]>(['save']),
    /**
     * After `trainer.save`, whether it wrote or not, and also when writing failed (`succeeded` false; the
     * error is rethrown after this hook): a data-parallel plugin waits here until the writing rank is
     * done, so no rank goes on (or restores) before the directory is whole, and every rank learns
     * whether it is.
     */
    afterSave: new AsyncSeriesHook<[Readonly<CheckpointSave>, boolean]>(['save', 'succeeded']),
    // step, in the order they fire
    /**
     * Before the step's context exists: a tap may replace the batch the step trains on (a data-parallel
     * rank keeps its shard). Tensors of a returned batch that are not the given batch's are freed by the
     * trainer when the step ends.
     */
    selectBatch: new AsyncSeriesWaterfallHook<[Batch, BatchInfo]>(['batch', 'info']),
    beforeStep: new AsyncSeriesHook<[StepContext]>(['context']),
    beforeForward: new AsyncSeriesHook<[StepContext]>(['context']),
    /** Synchronous: it fires inside the gradient tape, right after the loss is computed. */
    afterForward: new SyncHook<[StepContext]>(['context']),
    afterBackward: new SyncHook<[StepContext]>(['context']),
    beforeAllReduce: new AsyncSeriesWaterfallHook<[GradientMap, StepContext]>(['gradients', 'context']),
    beforeUpdate: new SyncHook<[StepContext]>(['context']),
    afterStep: new AsyncSeriesHook<[StepContext]>(['context']),
    /**
     * A step threw (in a hook, the strategy or the update): free what was prepared for it. The trainer
     * has already freed the step's own tensors; the error is rethrown after this hook.
     */
    stepFailed: new AsyncSeriesHook<[StepContext, unknown]>(['context', 'error']),
  });
}

export type TrainerHooks = ReturnType<typeof createHooks>;
