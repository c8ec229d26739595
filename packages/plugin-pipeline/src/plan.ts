// From a unit profile to the stages of one step: which units each stage runs, what it is expected to
// cost and what crosses its boundary. Frozen units cost only their forward and send no gradient back,
// so when the frozen prefix moves the remaining work is spread over the stages anew (PipeTransformer's
// freeze-aware re-balancing); with fewer units to run than stages, fewer stages run (never an empty one).
import { partitionUnits, type PartitionCosts } from './partition.js';
import type { UnitProfile } from './stage-protocol.js';

export interface StagePlan {
  readonly stage: number;
  /** Units [from, to) of the model. */
  readonly from: number;
  readonly to: number;
  readonly units: readonly string[];
  /** Of those, how many are frozen (forward only). */
  readonly frozenUnits: number;
  /** Estimated ms per micro-batch: compute plus moving its boundary tensors. */
  readonly estimatedMs: number;
  /** Bytes of the activation it hands to the next stage per micro-batch (0 for the last). */
  readonly boundaryBytes: number;
}

export interface PipelinePlan {
  /** The unit the forward starts at (after a cache) and the frozen prefix the plan was made for. */
  readonly forwardStart: number;
  readonly frozenPrefix: number;
  readonly microBatchSize: number;
  readonly microBatches: number;
  readonly stages: readonly StagePlan[];
  /** The slowest stage's estimate per micro-batch: the pipeline's period. */
  readonly bottleneckMs: number;
  /** All units of the step on one thread, per micro-batch, nothing moved. */
  readonly sequentialMs: number;
  /** sequential × M / (bottleneck × (M + K − 1)): fill and drain included, messaging latency not. */
  readonly predictedSpeedup: number;
}

export interface PlanRequest {
  readonly profile: UnitProfile;
  /** ms of one message between threads, beyond copying its bytes. */
  readonly messageLatencyMs: number;
  readonly unitNames: readonly string[];
  readonly forwardStart: number;
  readonly frozenPrefix: number;
  readonly stages: number;
  readonly microBatchSize: number;
  readonly microBatches: number;
}

export function moveMs(bytes: number, profile: UnitProfile, messageLatencyMs: number): number {
  return messageLatencyMs + bytes / profile.copyBytesPerMs;
}

/** The partition costs of units [forwardStart, n) under the given frozen prefix. */
export function partitionCosts(request: PlanRequest): PartitionCosts {
  const { profile, forwardStart, frozenPrefix, messageLatencyMs } = request;
  const n = request.unitNames.length;
  const computeMs: number[] = [];
  const boundaryMs: number[] = [];
  for (let unit = forwardStart; unit < n; unit++) {
    computeMs.push(profile.forwardMs[unit]! + (unit >= frozenPrefix ? profile.backwardMs[unit]! : 0));
    if (unit + 1 < n) {
      // The activation goes forward; its gradient comes back only when the unit after the cut trains.
      const moves = unit + 1 > frozenPrefix ? 2 : 1;
      boundaryMs.push(moves * moveMs(profile.outputBytes[unit]!, profile, messageLatencyMs));
    }
  }
  return { computeMs, boundaryMs };
}

export function planStep(request: PlanRequest): PipelinePlan {
  const { forwardStart, frozenPrefix, unitNames, profile, microBatches } = request;
  const costs = partitionCosts(request);
  const stageCount = Math.min(request.stages, costs.computeMs.length);
  const partition = partitionUnits(costs, stageCount);
  const stages = partition.stages.map((range, stage): StagePlan => {
    const from = range.from + forwardStart;
    const to = range.to + forwardStart;
    return {
      stage,
      from,
      to,
      units: unitNames.slice(from, to),
      frozenUnits: Math.max(0, Math.min(to, frozenPrefix) - from),
      estimatedMs: partition.stageMs[stage]!,
      boundaryBytes: to < unitNames.length ? profile.outputBytes[to - 1]! : 0,
    };
  });
  const sequentialMs = costs.computeMs.reduce((a, b) => a + b, 0);
  const predictedSpeedup = (sequentialMs * microBatches) / (partition.bottleneckMs * (microBatches + stageCount - 1));
  return {
    forwardStart,
    frozenPrefix,
    microBatchSize: request.microBatchSize,
    microBatches,
    stages,
    bottleneckMs: partition.bottleneckMs,
    sequentialMs,
    predictedSpeedup,
  };
}

/** The plan as a table a person reads. */
export function describePlan(plan: PipelinePlan): string {
  const lines = [
    `pipeline plan: ${plan.stages.length} stage(s), ${plan.microBatches} micro-batches of ${plan.microBatchSize}, forward from unit ${plan.forwardStart}, frozen prefix ${plan.frozenPrefix}`,
    ...plan.stages.map(
      (stage) =>
        `  stage ${stage.stage}: units ${stage.from}–${stage.to - 1} (${stage.units.join(', ')})${stage.frozenUnits ? `, ${stage.frozenUnits} frozen` : ''}; ${stage.estimatedMs.toFixed(2)} ms per micro-batch; sends ${(stage.boundaryBytes / 1024).toFixed(1)} KiB`,
    ),
    `  bottleneck ${plan.bottleneckMs.toFixed(2)} ms, one thread ${plan.sequentialMs.toFixed(2)} ms per micro-batch: predicted ${plan.predictedSpeedup.toFixed(2)}× over one thread`,
  ];
  return lines.join('\n');
}
