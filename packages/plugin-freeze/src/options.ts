import type * as tf from '@tensorflow/tfjs-core';
import { checkOptionNames, optionError } from '@trainhooks/core-hooks';

/** Where the reference model runs. */
export type ReferencePlacement = 'auto' | 'worker' | 'main-thread';

export interface FreezeOptions {
  /** No evaluation (and so no freezing) before this many steps: early training moves every layer. */
  warmupSteps: number;
  /** Steps between two plasticity evaluations. */
  evalEvery: number;
  /** L: each evaluation compares the model with the int8 snapshot taken L evaluations earlier. */
  referenceLag: number;
  /** Evaluations in the trend window (median level, Theil–Sen slope). */
  window: number;
  /** Largest |slope| of the normalised drift per evaluation that counts as flat. */
  tolerance: number;
  /** Largest median drift, as a fraction of the unit's peak drift, that counts as small. */
  driftThreshold: number;
  /** Consecutive evaluations a unit must pass before it freezes. */
  patience: number;
  /**
   * Inputs the reference and current model are compared on, held out from training (a tensor shaped
   * like the model input). null: the first `probeSize` samples of the first training batch.
   */
  probe: tf.Tensor | null;
  /** Samples taken from the first batch when no probe is given. */
  probeSize: number;
  /** Most units that may be frozen; 'all-but-head' (default) never freezes the last unit. */
  maxFrozenUnits: number | 'all-but-head';
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
  warmupSteps: 100,
  evalEvery: 20,
  referenceLag: 5,
  window: 5,
  tolerance: 0.1,
  driftThreshold: 0.25,
  patience: 3,
  probe: null,
  probeSize: 64,
  maxFrozenUnits: 'all-but-head',
  unfreezeOnLrDrop: 0.3,
  unfreezeUnits: 'all',
  lrChangeKeepsScale: false,
  reference: 'auto',
  workerSetup: null,
  workerTimeoutMs: 120_000,
  maxRestarts: 2,
  deterministic: false,
} satisfies FreezeOptions);

function fail(option: string, value: unknown, allowed: string): never {
  return optionError('plugin-freeze', option, value, allowed);
}

function isInteger(value: unknown, low: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= low;
}

function inRange(option: string, value: unknown, low: number, high: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= low || value > high) fail(option, value, `a number in (${low}, ${high}]`);
}

/** Defaults filled in and every option checked, with messages naming option, value and range. */
export function resolveFreezeOptions(options: Partial<FreezeOptions> = {}): FreezeOptions {
  checkOptionNames('plugin-freeze', options, Object.keys(DEFAULT_FREEZE_OPTIONS));
  const resolved: FreezeOptions = { ...DEFAULT_FREEZE_OPTIONS, ...options };
  for (const key of ['warmupSteps', 'maxRestarts'] as const) if (!isInteger(resolved[key], 0)) fail(key, resolved[key], 'an integer ≥ 0');
  for (const key of ['evalEvery', 'referenceLag', 'patience', 'probeSize'] as const) {
    if (!isInteger(resolved[key], 1)) fail(key, resolved[key], 'an integer ≥ 1');
  }
  if (!isInteger(resolved.window, 2)) fail('window', resolved.window, 'an integer ≥ 2 (a slope needs two points)');
  inRange('tolerance', resolved.tolerance, 0, 1);
  inRange('driftThreshold', resolved.driftThreshold, 0, 1);
  if (resolved.probe !== null && (typeof resolved.probe !== 'object' || !Array.isArray(resolved.probe.shape) || resolved.probe.shape.length < 1)) {
    fail('probe', resolved.probe, 'null or a tf.Tensor with a batch axis');
  }
  if (resolved.maxFrozenUnits !== 'all-but-head' && !isInteger(resolved.maxFrozenUnits, 0)) {
    fail('maxFrozenUnits', resolved.maxFrozenUnits, "'all-but-head' or an integer ≥ 0");
  }
  if (resolved.unfreezeOnLrDrop !== false) inRange('unfreezeOnLrDrop', resolved.unfreezeOnLrDrop, 0, 1);
  if (resolved.unfreezeUnits !== 'all' && !isInteger(resolved.unfreezeUnits, 1)) fail('unfreezeUnits', resolved.unfreezeUnits, "'all' or an integer ≥ 1");
  if (!['auto', 'worker', 'main-thread'].includes(resolved.reference)) fail('reference', resolved.reference, "'auto', 'worker' or 'main-thread'");
  if (resolved.workerSetup !== null && typeof resolved.workerSetup !== 'string') fail('workerSetup', resolved.workerSetup, 'null or a module path');
  if (!isInteger(resolved.workerTimeoutMs, 1)) fail('workerTimeoutMs', resolved.workerTimeoutMs, 'an integer ≥ 1 (milliseconds)');
  for (const key of ['deterministic', 'lrChangeKeepsScale'] as const) if (typeof resolved[key] !== 'boolean') fail(key, resolved[key], 'true or false');
  return resolved;
}
