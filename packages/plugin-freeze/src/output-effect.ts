import { median } from '@trainhooks/core-hooks/internal';

/**
 * Does a unit's recent learning still matter to what the model predicts? Its *output effect* is the
 * change of the model's predictions on the probe when that unit alone is put back to its weights of
 * `referenceLag` evaluations ago, every other unit as it is now:
 *
 *   effect = max(0, TV(p_now, p_unit-at-reference) − TV(p_now, p_unit-at-int8-now))
 *
 * with TV the mean total-variation distance between the two predicted class distributions (½·Σ|p − q|
 * per probe sample: the probability mass that moves), and the second term the int8 quantization floor
 * of the snapshot (weights that did not move give zero). It is an absolute quantity — "undoing this
 * unit's last L·evalEvery steps moves x % of the predicted probability mass" — so it needs no per-unit
 * scale learned from the run's own early peak: a pretrained front layer whose fine-tuning barely moves
 * the predictions passes at once, a layer still learning from scratch (the units after it rely on what
 * it just learned) does not, however flat its own drift looks.
 */

export interface EffectOptions {
  /** Largest median output effect that counts as "no longer matters". */
  readonly effectThreshold: number;
  /** Evaluations the median is taken over (the probe is small: one value is noisy). */
  readonly patience: number;
}

/** A unit's last `patience` effects since tracking (re)started. Plain data, so it exports as is. */
export interface EffectState {
  values: number[];
}

export interface EffectVerdict {
  readonly effect: number;
  /** Median of the last `patience` effects (NaN until there are that many). */
  readonly level: number;
  /** Evaluations seen, at most `patience`. */
  readonly streak: number;
  readonly converged: boolean;
  readonly reason: string;
}

export function emptyEffect(): EffectState {
  return { values: [] };
}

/** Adds one effect value and says whether the unit may freeze. Mutates `state`. */
export function observeEffect(state: EffectState, effect: number, options: EffectOptions): EffectVerdict {
  if (!Number.isFinite(effect) || effect < 0) {
    state.values = [];
    const reason = Number.isNaN(effect)
      ? "no output effect: the model's output is not class probabilities, logits or sigmoid outputs (a regression?) — criterion 'drift-trend' judges such models"
      : `output effect ${effect} is not a finite non-negative number`;
    return { effect, level: Number.NaN, streak: 0, converged: false, reason };
  }
  state.values = [...state.values, effect].slice(-options.patience);
  const seen = state.values.length;
  if (seen < options.patience) {
    return { effect, level: Number.NaN, streak: seen, converged: false, reason: `measuring: ${seen} of ${options.patience} evaluations` };
  }
  const level = median(state.values);
  const converged = level <= options.effectThreshold;
  const percent = (value: number) => `${(value * 100).toFixed(2)} %`;
  const reason = converged
    ? 'converged'
    : `still matters: undoing its recent learning moves ${percent(level)} of the predictions (median of ${seen}) > ${percent(options.effectThreshold)}`;
  return { effect, level, streak: seen, converged, reason };
}
