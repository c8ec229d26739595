import type * as tf from '@tensorflow/tfjs-core';
import { optionChecks, type OptionChecks } from '@trainhooks/core-hooks';
import type { ConvergenceScore } from './convergence-monitor.js';

/** Which parameters converge together and are pruned together. */
export type GroupBy = 'unit' | 'variable' | ((variable: tf.Variable, unitIndex: number, unitName: string) => string);

/**
 * How each step's skip draws are made. 'shared': one uniform u per step, a group is pruned when
 * u < its probability — every group keeps its own probability, and the pruned sets nest (a group is
 * only pruned on steps where every group with a higher probability is too), so front units that
 * converge first are pruned together as a prefix, which also spares the input gradients between them.
 * 'independent': one draw per group.
 */
export type Draws = 'shared' | 'independent';

export interface GradPruneOptions {
  /** Steps between two monitor points (the statistic costs a few fused ops per group). */
  monitorEvery: number;
  /** EMA weight of the previous value when smoothing the per-update change rate, in [0, 1) ('peak' only). */
  smoothing: number;
  /** Scores a group needs before it may be pruned: monitor points ('peak': its peak must be meaningful), windows ('saturation'). */
  minObservations: number;
  /**
   * 'peak' (default, the paper's): convergence = 1 − smoothed rate / its peak, every monitor point.
   * 'saturation': convergence = 1 − g, where distance² from an anchor ∝ updates^g over a window of
   * 2 · `saturationLag` monitor points (g ≈ 2 still learning, ≈ 1 random walk, ≈ 0 settled).
   */
  score: ConvergenceScore;
  /** 'saturation': monitor points from the anchor to the window's midpoint (the window is twice that). */
  saturationLag: number;
  /** Convergence from which pruning starts, in [0, 1). */
  startAt: number;
  /** Convergence at which the probability reaches pMax, in (startAt, 1]. */
  fullAt: number;
  /** Highest skip probability, < 1 so a pruned group still wakes up and is measured. */
  pMax: number;
  /** Seed of the skip draws: the same seed gives the same pattern (data-parallel ranks rely on it). */
  seed: number;
  /** 'unit' (default: a layer's kernel and bias together), 'variable', or a function naming the group. */
  groupBy: GroupBy;
  /** Prune the last unit (the head) too; off by default. */
  pruneHead: boolean;
  /** 'shared' (default): one draw per step, pruned sets nest; 'independent': one draw per group. */
  draws: Draws;
}

export const DEFAULT_GRAD_PRUNE_OPTIONS: Readonly<GradPruneOptions> = Object.freeze({
  monitorEvery: 20,
  smoothing: 0.8,
  score: 'peak',
  saturationLag: 5,
  minObservations: 3,
  startAt: 0.3,
  fullAt: 0.6,
  pMax: 0.9,
  seed: 0,
  groupBy: 'unit',
  pruneHead: false,
  draws: 'shared',
});

const check: OptionChecks = optionChecks('plugin-grad-prune');

/** Defaults filled in and every option checked, with messages naming option, value and range. */
export function resolveGradPruneOptions(options: Partial<GradPruneOptions> = {}): GradPruneOptions {
  check.names(options, Object.keys(DEFAULT_GRAD_PRUNE_OPTIONS));
  const resolved = { ...DEFAULT_GRAD_PRUNE_OPTIONS, ...options };
  for (const key of ['monitorEvery', 'minObservations', 'saturationLag'] as const) check.integer(key, resolved[key], 1);
  check.inInterval('smoothing', resolved.smoothing, '[0, 1)');
  check.oneOf('score', resolved.score, ['peak', 'saturation']);
  check.inInterval('startAt', resolved.startAt, '[0, 1)');
  check.inInterval('fullAt', resolved.fullAt, '[0, 1]');
  if (resolved.fullAt <= resolved.startAt) check.fail('fullAt', resolved.fullAt, `greater than startAt (${resolved.startAt})`);
  check.inInterval('pMax', resolved.pMax, '[0, 1)');
  if (!Number.isInteger(resolved.seed) || resolved.seed < 0 || resolved.seed > 0xffffffff) check.fail('seed', resolved.seed, 'an integer in [0, 2³²)');
  if (resolved.groupBy !== 'unit' && resolved.groupBy !== 'variable' && typeof resolved.groupBy !== 'function') {
    check.fail('groupBy', resolved.groupBy, "'unit', 'variable' or a function (variable, unitIndex, unitName) => group name");
  }
  check.boolean('pruneHead', resolved.pruneHead);
  check.oneOf('draws', resolved.draws, ['shared', 'independent']);
  return resolved;
}
