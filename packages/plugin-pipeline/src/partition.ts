// Layer-wise partition and merge (Akintoye et al., FGCS 2023): start from one partition per unit and
// merge adjacent partitions until `stages` remain, so that the slowest stage — its compute plus the
// cost of moving the tensors at its boundaries — is as fast as possible. The merges are chosen by an
// exact dynamic programme over the cut positions (a greedy pairwise merge can miss the optimum), so
// the result equals brute force; ties go to the earliest cuts, which makes it deterministic.

/** Cost of each unit and of each cut between two units, in ms per micro-batch. */
export interface PartitionCosts {
  /** Forward + backward (forward only where the unit is frozen) of unit i. */
  readonly computeMs: readonly number[];
  /** Moving the activation after unit i forward and its gradient back, paid by both stages at that cut. */
  readonly boundaryMs: readonly number[];
}

/** A stage runs units [from, to). */
export interface StageRange {
  readonly from: number;
  readonly to: number;
}

export interface Partition {
  readonly stages: readonly StageRange[];
  readonly stageMs: readonly number[];
  /** The slowest stage's ms: the pipeline's period per micro-batch. */
  readonly bottleneckMs: number;
}

/** What stage [from, to) costs: its units plus the cuts on either side of it. */
export function stageCost(costs: PartitionCosts, from: number, to: number): number {
  let ms = 0;
  for (let unit = from; unit < to; unit++) ms += costs.computeMs[unit]!;
  if (from > 0) ms += costs.boundaryMs[from - 1]!;
  if (to < costs.computeMs.length) ms += costs.boundaryMs[to - 1]!;
  return ms;
}

/**
 * Cuts units [0, n) into exactly `stages` non-empty contiguous stages minimising the slowest stage.
 * Throws when there are fewer units than stages: an empty stage would idle a thread (DeepSpeed once
 * shipped that bug), so the caller decides how many stages the units can fill.
 */
export function partitionUnits(costs: PartitionCosts, stages: number): Partition {
  const n = costs.computeMs.length;
  if (costs.boundaryMs.length < n - 1) throw new Error(`partition: ${n} units need ${n - 1} boundary costs, got ${costs.boundaryMs.length}`);
  if (!Number.isInteger(stages) || stages < 1 || stages > n) throw new RangeError(`partition: cannot cut ${n} units into ${stages} non-empty stages`);
  // best[k][i]: the smallest bottleneck of units [0, i) in k stages; cut[k][i]: where its last stage starts.
  const best = Array.from({ length: stages + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut = Array.from({ length: stages + 1 }, () => new Array<number>(n + 1).fill(-1));
  best[0]![0] = 0;
  for (let k = 1; k <= stages; k++) {
    for (let i = k; i <= n - (stages - k); i++) {
      for (let start = k - 1; start < i; start++) {
        const value = Math.max(best[k - 1]![start]!, stageCost(costs, start, i));
        // Strictly smaller only: the earliest start wins a tie.
        if (value < best[k]![i]!) {
          best[k]![i] = value;
          cut[k]![i] = start;
        }
      }
    }
  }
  const ranges: StageRange[] = [];
  for (let k = stages, end = n; k > 0; k--) {
    const start = cut[k]![end]!;
    ranges.unshift({ from: start, to: end });
    end = start;
  }
  const stageMs = ranges.map((range) => stageCost(costs, range.from, range.to));
  return { stages: ranges, stageMs, bottleneckMs: Math.max(...stageMs) };
}
