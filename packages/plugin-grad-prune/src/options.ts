import type * as tf from '@tensorflow/tfjs-core';
import { optionChecks, type OptionChecks } from '@trainhooks/core-hooks';
import type { ConvergenceScore } from './convergence-monitor.js';

/**
 * How a group's convergence is scored: the parameter statistics of convergence-monitor.ts ('peak',
 * 'saturation'), or 'output-effect' — whether the group's recent learning still moves the model's
 * predictions (output-effect-monitor.ts). 'auto' (the default) is 'output-effect' in both regimes,
 * with the movement picked by the regime (`effectMovement`).
 */
export type PruneScore = 'auto' | ConvergenceScore | 'output-effect';

/** Which part of a group's movement 'output-effect' judges (core-hooks' full-rate-effect.ts); 'auto' picks by the regime. */
export type EffectMovementOption = 'auto' | 'directed' | 'total';

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
   * 'auto' (default): 'output-effect', in a fine-tuning (the trainer reports pretrained units) and from
   * scratch alike — from scratch the peak score prunes a CNN 2.5–3 pt under its accuracy (BENCHMARKS.md,
   * the mnist-node case); report().regime says what was used.
   * 'peak' (the paper's): convergence = 1 − smoothed rate / its peak, every monitor point.
   * 'saturation': convergence = 1 − g, where distance² from an anchor ∝ updates^g over a window of
   * 2 · `saturationLag` monitor points (g ≈ 2 still learning, ≈ 1 random walk, ≈ 0 settled).
   * 'output-effect': putting the group back to its weights of `referenceLag` monitor points ago moves
   * the probe's predicted probability mass by its *effect*, scaled to full rate (a pruned group moves
   * less); convergence = 1 − (median of the last `patience` effects) / (2 · effectThreshold), so ½ at
   * the threshold — plugin-freeze's test, made gradual.
   */
  score: PruneScore;
  /** 'output-effect': the effect (mean total-variation change of the probe's predictions) at which convergence is ½. */
  effectThreshold: number;
  /**
   * 'output-effect': 'directed' judges the part of the movement that keeps one direction (also measured
   * over 2·referenceLag; the whole movement counts at half), 'total' all of it; 'auto' (default):
   * 'directed' in a fine-tuning, 'total' from scratch, as plugin-freeze.
   */
  effectMovement: EffectMovementOption;
  /** 'output-effect': monitor points between a snapshot and the measurement that undoes it. */
  referenceLag: number;
  /** 'output-effect': effects the median is taken over. */
  patience: number;
  /**
   * 'output-effect': at most this many monitor points between two measurements of a group whose effect
   * sits far above where pruning starts (twice it) and is not falling fast, or far under where its
   * probability is highest (half it) and not rising fast (core-hooks' measurement-spacing.ts, as
   * plugin-freeze's `maxEvalSpacing`); snapshots are still taken at every point. 1 measures every
   * group at every point.
   */
  maxMeasureSpacing: number;
  /** 'output-effect': samples of the first batch (before a data-parallel rank takes its shard) that form the probe. */
  probeSize: number;
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
  score: 'auto',
  effectThreshold: 0.0075,
  effectMovement: 'auto',
  referenceLag: 2,
  patience: 3,
  maxMeasureSpacing: 4,
  probeSize: 64,
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
  for (const key of ['monitorEvery', 'minObservations', 'saturationLag', 'referenceLag', 'patience', 'maxMeasureSpacing', 'probeSize'] as const) check.integer(key, resolved[key], 1);
  check.inInterval('smoothing', resolved.smoothing, '[0, 1)');
  check.oneOf('score', resolved.score, ['auto', 'peak', 'saturation', 'output-effect']);
  check.inInterval('effectThreshold', resolved.effectThreshold, '(0, 1]');
  check.oneOf('effectMovement', resolved.effectMovement, ['auto', 'directed', 'total']);
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
