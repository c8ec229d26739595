import { describe, expect, it } from 'vitest';
import { microBatchSizes, partitionUnits, planStep, resolvePipelineOptions, stageCost, stageOperations, type PartitionCosts } from '@trainhooks/plugin-pipeline/internal';

/** Every way to cut n units into k non-empty contiguous stages. */
function* compositions(n: number, k: number, start = 0): Generator<number[]> {
  if (k === 1) {
    yield [start, n];
    return;
  }
  for (let cut = start + 1; cut <= n - (k - 1); cut++) for (const rest of compositions(n, k - 1, cut)) yield [start, ...rest];
}

function bruteForce(costs: PartitionCosts, k: number): number {
  let best = Infinity;
  for (const cuts of compositions(costs.computeMs.length, k)) {
    let worst = 0;
    for (let s = 0; s < k; s++) worst = Math.max(worst, stageCost(costs, cuts[s]!, cuts[s + 1]!));
    best = Math.min(best, worst);
  }
  return best;
}

/** A small deterministic generator, so a failure names its case. */
function lcg(seed: number) {
  let state = seed;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('partition + merge', () => {
  it('equals brute force on synthetic cost vectors for n ≤ 10, every stage count, never an empty stage', () => {
    const random = lcg(42);
    for (let n = 1; n <= 10; n++) {
      for (let trial = 0; trial < 12; trial++) {
        // Skewed costs (one heavy unit now and then) and boundaries that sometimes dominate.
        const computeMs = Array.from({ length: n }, () => (random() < 0.2 ? 20 : 1) * random() * 10);
        const boundaryMs = Array.from({ length: n - 1 }, () => (trial % 3 === 0 ? 5 : 0.5) * random());
        const costs = { computeMs, boundaryMs };
        for (let k = 1; k <= n; k++) {
          const partition = partitionUnits(costs, k);
          expect(partition.stages).toHaveLength(k);
          expect(partition.stages[0]!.from).toBe(0);
          expect(partition.stages.at(-1)!.to).toBe(n);
          partition.stages.forEach((stage, s) => {
            expect(stage.to).toBeGreaterThan(stage.from);
            if (s > 0) expect(stage.from).toBe(partition.stages[s - 1]!.to);
          });
          expect(partition.bottleneckMs).toBeCloseTo(bruteForce(costs, k), 9);
          // Deterministic: the same input gives the same cuts.
          expect(partitionUnits(costs, k).stages).toEqual(partition.stages);
        }
      }
    }
  });

  it('charges a cut to both stages beside it, so an expensive boundary moves the cut', () => {
    const cheapCut = partitionUnits({ computeMs: [1, 1, 1, 1], boundaryMs: [0, 0, 0] }, 2);
    expect(cheapCut.stages).toEqual([{ from: 0, to: 2 }, { from: 2, to: 4 }]);
    const costlyMiddle = partitionUnits({ computeMs: [1, 1, 1, 1], boundaryMs: [0, 10, 0] }, 2);
    expect(costlyMiddle.stages).not.toContainEqual({ from: 2, to: 4 });
  });

  it('refuses more stages than units and bad stage counts', () => {
    expect(() => partitionUnits({ computeMs: [1, 2], boundaryMs: [0] }, 3)).toThrow(/cannot cut 2 units into 3 non-empty stages/);
    expect(() => partitionUnits({ computeMs: [1, 2], boundaryMs: [0] }, 0)).toThrow(RangeError);
  });
});

describe('plans', () => {
  const profile = { forwardMs: [4, 4, 4, 4, 4], backwardMs: [8, 8, 8, 8, 8], outputBytes: [1000, 1000, 1000, 1000, 40], copyBytesPerMs: 1e6 };
  const request = { profile, messageLatencyMs: 0.05, unitNames: ['a', 'b', 'c', 'd', 'e'], stages: 2, microBatchSize: 32, microBatches: 8 };

  it('frozen units cost their forward only, so the cut moves back when the prefix freezes', () => {
    const open = planStep({ ...request, forwardStart: 0, frozenPrefix: 0 });
    const frozen = planStep({ ...request, forwardStart: 0, frozenPrefix: 3 });
    expect(open.stages.map((stage) => [stage.from, stage.to])).toEqual([[0, 2], [2, 5]]);
    // 12 | 24 and 24 | 12 tie on compute; the cut before d moves no gradient back (d's input is frozen).
    expect(frozen.stages.map((stage) => [stage.from, stage.to])).toEqual([[0, 3], [3, 5]]);
    expect(frozen.stages[0]!.frozenUnits).toBe(3);
    expect(frozen.bottleneckMs).toBeCloseTo(24 + 0.05 + 1000 / 1e6, 9);
    expect(frozen.sequentialMs).toBeCloseTo(3 * 4 + 2 * 12, 9);
  });

  it('a forward that starts late leaves fewer units than stages: fewer stages, none empty', () => {
    const plan = planStep({ ...request, forwardStart: 4, frozenPrefix: 4 });
    expect(plan.stages).toEqual([expect.objectContaining({ stage: 0, from: 4, to: 5, units: ['e'], boundaryBytes: 0 })]);
    expect(plan.predictedSpeedup).toBeCloseTo(1, 9);
  });
});

describe('schedules', () => {
  const check = (schedule: 'gpipe' | '1f1b', stages: number, microBatches: number) => {
    for (let stage = 0; stage < stages; stage++) {
      const operations = stageOperations(schedule, stage, stages, microBatches);
      expect(operations.filter((op) => op.kind === 'forward').map((op) => op.microBatch)).toEqual([...Array(microBatches).keys()]);
      expect(operations.filter((op) => op.kind === 'backward').map((op) => op.microBatch)).toEqual([...Array(microBatches).keys()]);
      // A micro-batch's backward comes after its forward on every stage.
      for (let m = 0; m < microBatches; m++) {
        expect(operations.findIndex((op) => op.kind === 'backward' && op.microBatch === m)).toBeGreaterThan(operations.findIndex((op) => op.kind === 'forward' && op.microBatch === m));
      }
    }
  };

  it('every stage runs each forward and backward once, backward after forward', () => {
    for (const schedule of ['gpipe', '1f1b'] as const) for (const [k, m] of [[1, 1], [2, 4], [2, 8], [3, 2], [4, 8]] as const) check(schedule, k, m);
  });

  it('gpipe fills and drains; 1f1b warms up with stages − stage − 1 forwards, then alternates', () => {
    const f = (m: number) => ({ kind: 'forward', microBatch: m });
    const b = (m: number) => ({ kind: 'backward', microBatch: m });
    expect(stageOperations('gpipe', 0, 2, 3)).toEqual([f(0), f(1), f(2), b(0), b(1), b(2)]);
    expect(stageOperations('1f1b', 0, 2, 3)).toEqual([f(0), f(1), b(0), f(2), b(1), b(2)]);
    expect(stageOperations('1f1b', 1, 2, 3)).toEqual([f(0), b(0), f(1), b(1), f(2), b(2)]);
    expect(stageOperations('1f1b', 0, 2, 3, false)).toEqual([f(0), f(1), f(2)]);
  });

  it('micro-batches are as equal as possible and never empty', () => {
    expect(microBatchSizes(256, 8)).toEqual(Array(8).fill(32));
    expect(microBatchSizes(10, 4)).toEqual([3, 3, 2, 2]);
    expect(microBatchSizes(3, 8)).toEqual([1, 1, 1]);
  });
});

describe('options', () => {
  it('fills defaults and names option, value and allowed range in errors', () => {
    expect(resolvePipelineOptions({})).toMatchObject({ stages: 2, microBatches: 4, schedule: '1f1b' });
    expect(() => resolvePipelineOptions({ stages: 0 })).toThrow(/option stages must be an integer ≥ 1, got 0/);
    expect(() => resolvePipelineOptions({ microBatches: 1.5 })).toThrow(/option microBatches must be an integer ≥ 1/);
    expect(() => resolvePipelineOptions({ schedule: 'zigzag' as never })).toThrow(/option schedule must be 'gpipe' or '1f1b'/);
    expect(() => resolvePipelineOptions({ stage: 2 } as never)).toThrow(/option stage must be one of/);
  });
});
