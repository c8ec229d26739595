import type { PipelineSchedule } from './options.js';

/** One piece of a stage's work: the forward or the backward of one micro-batch. */
export interface StageOperation {
  readonly kind: 'forward' | 'backward';
  readonly microBatch: number;
}

/**
 * The order in which stage `stage` of `stages` runs its forwards and backwards of `microBatches`.
 * gpipe (fill-drain): every forward, then every backward. 1f1b (PipeDream-flush): the stage runs
 * (stages − stage − 1) forwards to fill the pipe, then alternates one forward and one backward, then
 * drains its backwards — at most that many micro-batches' activations are alive at once.
 * Without backward (a stage of frozen units only) both are just the forwards.
 */
export function stageOperations(schedule: PipelineSchedule, stage: number, stages: number, microBatches: number, backward = true): StageOperation[] {
  const forward = (microBatch: number): StageOperation => ({ kind: 'forward', microBatch });
  const back = (microBatch: number): StageOperation => ({ kind: 'backward', microBatch });
  const all = Array.from({ length: microBatches }, (_, m) => m);
  if (!backward) return all.map(forward);
  if (schedule === 'gpipe') return [...all.map(forward), ...all.map(back)];
  const warmup = Math.min(stages - stage - 1, microBatches);
  const operations = all.slice(0, warmup).map(forward);
  for (let m = warmup; m < microBatches; m++) operations.push(forward(m), back(m - warmup));
  for (let m = microBatches - warmup; m < microBatches; m++) operations.push(back(m));
  return operations;
}

/** Sizes of the micro-batches of a batch: as equal as possible, larger ones first; never empty. */
export function microBatchSizes(batchSize: number, microBatches: number): number[] {
  const count = Math.min(microBatches, batchSize);
  const base = Math.floor(batchSize / count);
  const larger = batchSize % count;
  return Array.from({ length: count }, (_, m) => base + (m < larger ? 1 : 0));
}

/** Where each micro-batch starts in its batch (rows). */
export function microBatchOffsets(sizes: readonly number[]): number[] {
  const offsets: number[] = [];
  let offset = 0;
  for (const size of sizes) {
    offsets.push(offset);
    offset += size;
  }
  return offsets;
}
