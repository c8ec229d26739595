import type * as tf from '@tensorflow/tfjs-core';
import { optionChecks, type OptionChecks, type Unit } from '@trainhooks/core-hooks';
import { classifierUnits } from '@trainhooks/core-hooks/internal';

/** Where the reference model runs. */
export type ReferencePlacement = 'auto' | 'worker' | 'main-thread';

/** Which test decides that a unit may freeze. */
export type FreezeCriterion = 'output-effect' | 'drift-trend';

/** Which part of a unit's recent movement its output effect counts (output-effect.ts); 'auto' picks by the run's regime. */
export type EffectMovement = 'auto' | 'directed' | 'total';

export interface FreezeOptions {
  /**
   * 'output-effect' (default): a unit freezes once undoing its last referenceLag·evalEvery steps of
   * learning moves at most `effectThreshold` of the probe's predicted probability mass, in the median
   * of its last `patience` evaluations (output-effect.ts). 'drift-trend': Egeria's test — its own drift small against
   * its peak level and flat (plasticity-trend.ts; window, tolerance, driftThreshold).
   */
  criterion: FreezeCriterion;
  /** 'output-effect': the largest mean total-variation change of the probe's predictions that counts as settled. */
  effectThreshold: number;
  /**
   * 'output-effect': 'directed' judges the part of the unit's movement that keeps one direction — its
   * effect measured over referenceLag and over 2·referenceLag evaluations, the part that grows like a
   * random walk (Adam's jitter of settled weights) taken out; until the ring reaches 2·referenceLag
   * back, the whole effect. Jitter counts at half (output-effect.ts: directedEffect). 'total': the
   * whole effect over referenceLag evaluations. 'auto' (default): 'directed' in a fine-tuning (the
   * trainer reports pretrained units), 'total' from scratch — where 'directed' froze cnn's conv1–conv3
   * under Adam by epoch 2.25 of 4 and cost 1 pt (BENCHMARKS.md). report().regime says which was used.
   */
  effectMovement: EffectMovement;
  /** No evaluation (and so no freezing) before this many steps: early training moves every layer. */
  warmupSteps: number;
  /** Steps between two plasticity evaluations. */
  evalEvery: number;
  /**
   * 'output-effect': while the first active unit is far from passing — its effect level above twice
   * the threshold and, at the rate its effect falls, more than two evaluations from the threshold —
   * evaluate only every k-th boundary, k at most this (1: every boundary). Snapshots are still taken every
   * `evalEvery` steps, so an effect always undoes referenceLag·evalEvery steps.
   */
  maxEvalSpacing: number;
  /**
   * 'output-effect': units measured past the first active one ('all': every unit that may freeze).
   * Measuring the first active unit costs two forwards of the whole model; the later ones, the rest of
   * it each. Default 2: with patience 3, a unit then has its three effects by the time the units before
   * it have frozen (one per evaluation) unless three freeze in a row at consecutive evaluations.
   */
  lookahead: number | 'all';
  /** L: each evaluation compares the model with the int8 snapshot taken L evaluations earlier. */
  referenceLag: number;
  /** Evaluations in the trend window (median level, Theil–Sen slope). */
  window: number;
  /** Largest |slope| of the normalised drift per evaluation that counts as flat. */
  tolerance: number;
  /** Largest median drift, as a fraction of the unit's peak drift, that counts as small. */
  driftThreshold: number;
  /** 'output-effect': evaluations the effect's median is taken over; 'drift-trend': consecutive evaluations a unit must pass before it freezes. */
  patience: number;
  /**
   * Inputs the reference and current model are compared on, held out from training (a tensor shaped
   * like the model input). null: the first `probeSize` samples of the first training batch.
   */
  probe: tf.Tensor | null;
  /** The probe's targets (one-hot rows, like the training labels), when known: the report then shows what undoing each unit's learning costs in probe loss. */
  probeLabels: tf.Tensor | null;
  /** Samples taken from the first batch when no probe is given. */
  probeSize: number;
  /**
   * Most units that may be frozen: an integer, 'all-but-N' — every unit but the last N ('all-but-head'
   * = 'all-but-1') — or 'all-but-classifier' (default): every unit but the classifier on top of a
   * convolutional feature extractor, the units after the last one that convolves (core-hooks'
   * classifierUnits: cnn's dense1 and head, a ResNet's head), and 'all-but-2' for a model without
   * convolutions. The classifier is what a fine-tuning adapts most and costs little: measured on cnn →
   * digits, freezing dense1 cost accuracy and, with the cache, saved no time; on resnet → digits, where
   * the block under the head is a costly residual block, freezing it too (when it passes) made the run
   * 1.1–1.15× shorter at the same accuracy.
   */
  maxFrozenUnits: number | 'all-but-head' | 'all-but-classifier' | `all-but-${number}`;
  /**
   * Unfreeze when the optimizer's learning rate falls by at least this fraction between two steps
   * (step-decay schedules driven from callbacks); false: only `trainer.setLearningRate` (lrChange) does.
   */
  unfreezeOnLrDrop: number | false;
  /** How many of the last frozen units a learning-rate change unfreezes. */
  unfreezeUnits: number | 'all';
  /**
   * After a learning-rate change, judge drift against each unit's peak level from before the change
   * (true) instead of establishing a new peak at the new rate (false). After a decay, drift falls
   * 10–100×: with true, units whose drift is then small against what they moved while learning and
   * flat freeze again; with false, a unit must fall to driftThreshold of its post-change peak.
   */
  lrChangeKeepsScale: boolean;
  /** 'auto': a worker thread for a LayersModel (it has a JSON architecture), the main thread for a { units } model. */
  reference: ReferencePlacement;
  /** Module the worker imports before building the model (register custom layers there); an absolute path or file URL. */
  workerSetup: string | null;
  /** An evaluation that takes longer fails (freezeError) and restarts the worker. */
  workerTimeoutMs: number;
  /** Times the worker pool is restarted after failures before evaluations stop for good. */
  maxRestarts: number;
  /**
   * Apply each evaluation exactly `evalEvery` steps after it started, waiting for the worker if it is
   * late: decisions are reproducible run to run (and after a resume). false: apply at the first step
   * boundary after the result arrives; never wait.
   */
  deterministic: boolean;
}

export const DEFAULT_FREEZE_OPTIONS: Readonly<FreezeOptions> = Object.freeze({
  criterion: 'output-effect',
  effectThreshold: 0.0075,
  effectMovement: 'auto',
  warmupSteps: 0,
  evalEvery: 20,
  maxEvalSpacing: 4,
  lookahead: 2,
  referenceLag: 2,
  window: 5,
  tolerance: 0.1,
  driftThreshold: 0.25,
  patience: 3,
  probe: null,
  probeLabels: null,
  probeSize: 64,
  maxFrozenUnits: 'all-but-classifier',
  unfreezeOnLrDrop: 0.3,
  unfreezeUnits: 'all',
  lrChangeKeepsScale: false,
  reference: 'auto',
  workerSetup: null,
  workerTimeoutMs: 120_000,
  maxRestarts: 2,
  deterministic: false,
} satisfies FreezeOptions);

const check: OptionChecks = optionChecks('plugin-freeze');

/** Defaults filled in and every option checked, with messages naming option, value and range. */
export function resolveFreezeOptions(options: Partial<FreezeOptions> = {}): FreezeOptions {
  check.names(options, Object.keys(DEFAULT_FREEZE_OPTIONS));
  const resolved: FreezeOptions = { ...DEFAULT_FREEZE_OPTIONS, ...options };
  for (const key of ['warmupSteps', 'maxRestarts'] as const) check.integer(key, resolved[key], 0);
  for (const key of ['evalEvery', 'maxEvalSpacing', 'referenceLag', 'patience', 'probeSize'] as const) check.integer(key, resolved[key], 1);
  check.integer('window', resolved.window, 2, '(a slope needs two points)');
  check.oneOf('criterion', resolved.criterion, ['output-effect', 'drift-trend']);
  check.oneOf('effectMovement', resolved.effectMovement, ['auto', 'directed', 'total']);
  for (const key of ['effectThreshold', 'tolerance', 'driftThreshold'] as const) check.inInterval(key, resolved[key], '(0, 1]');
  if (resolved.probe !== null && (typeof resolved.probe !== 'object' || !Array.isArray(resolved.probe.shape) || resolved.probe.shape.length < 1)) {
    check.fail('probe', resolved.probe, 'null or a tf.Tensor with a batch axis');
  }
  if (resolved.probeLabels !== null) {
    const labels = resolved.probeLabels as unknown as { shape?: unknown };
    if (typeof labels !== 'object' || !Array.isArray(labels.shape) || labels.shape.length < 1) check.fail('probeLabels', resolved.probeLabels, 'null or a tf.Tensor with a batch axis');
    if (resolved.probe === null) check.fail('probeLabels', resolved.probeLabels, 'null unless a probe is given (they label its rows)');
    if (labels.shape[0] !== resolved.probe.shape[0]) check.fail('probeLabels', `a tensor of ${labels.shape[0]} rows`, `one row per probe sample (${resolved.probe.shape[0]})`);
  }
  if (unitsKeptTraining(resolved.maxFrozenUnits, []) === null && !isInteger(resolved.maxFrozenUnits, 0)) {
    check.fail('maxFrozenUnits', resolved.maxFrozenUnits, "an integer ≥ 0, 'all-but-head', 'all-but-classifier' or 'all-but-N' (N an integer ≥ 1)");
  }
  if (resolved.unfreezeOnLrDrop !== false) check.inInterval('unfreezeOnLrDrop', resolved.unfreezeOnLrDrop, '(0, 1]');
  if (resolved.lookahead !== 'all' && !isInteger(resolved.lookahead, 0)) check.fail('lookahead', resolved.lookahead, "'all' or an integer ≥ 0");
  if (resolved.unfreezeUnits !== 'all' && !isInteger(resolved.unfreezeUnits, 1)) check.fail('unfreezeUnits', resolved.unfreezeUnits, "'all' or an integer ≥ 1");
  check.oneOf('reference', resolved.reference, ['auto', 'worker', 'main-thread']);
  if (resolved.workerSetup !== null && typeof resolved.workerSetup !== 'string') check.fail('workerSetup', resolved.workerSetup, 'null or a module path');
  check.integer('workerTimeoutMs', resolved.workerTimeoutMs, 1, '(milliseconds)');
  for (const key of ['deterministic', 'lrChangeKeepsScale'] as const) check.boolean(key, resolved[key]);
  return resolved;
}

function isInteger(value: unknown, low: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= low;
}

/** 'all-but-head' → 1, 'all-but-N' → N, 'all-but-classifier' → the classifier's units of `units` (2 without one); null for a number or anything else. */
export function unitsKeptTraining(maxFrozenUnits: unknown, units: readonly Unit[]): number | null {
  if (maxFrozenUnits === 'all-but-head') return 1;
  if (maxFrozenUnits === 'all-but-classifier') return classifierUnits(units) ?? 2;
  const match = typeof maxFrozenUnits === 'string' ? /^all-but-(\d+)$/.exec(maxFrozenUnits) : null;
  return match && Number(match[1]) >= 1 ? Number(match[1]) : null;
}
