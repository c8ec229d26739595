/**
 * When has a unit stopped learning? Each evaluation gives its drift: the SP loss between its current
 * output and that of a reference L evaluations old. Drift is normalised by its own peak level (the
 * highest median of `window` consecutive values since tracking started — a median, so one noisy spike
 * does not set the scale), so one threshold fits every layer and model. The unit counts as converged
 * once, for `patience` evaluations in a row, the window of the last `window` normalised values has a
 * small median level and a flat robust (Theil–Sen) slope.
 */
import { median } from '@trainhooks/core-hooks/internal';

export interface TrendOptions {
  readonly window: number;
  /** Largest |slope| (fraction of the peak per evaluation) that counts as flat. */
  readonly tolerance: number;
  /** Largest median normalised drift that counts as small. */
  readonly driftThreshold: number;
  readonly patience: number;
}

/** Where a unit's test stands after an evaluation: what the report shows, so "why not frozen" is visible. */
export interface TrendVerdict {
  /** This drift over the peak level (NaN until the window is full; may exceed 1). */
  readonly normalisedDrift: number;
  /** Median of the last `window` normalised values (NaN until the window is full). */
  readonly level: number;
  /** Theil–Sen slope of the window per evaluation, as a fraction of the peak (NaN until full). */
  readonly slope: number;
  /** Consecutive evaluations that met both conditions. */
  readonly streak: number;
  readonly converged: boolean;
  readonly reason: string;
}

/** The series a unit accumulates since tracking (re)started. Plain data, so it exports as is. */
export interface TrendState {
  values: number[];
  /** Highest window median so far. */
  peakLevel: number;
  streak: number;
}

export function emptyTrend(): TrendState {
  return { values: [], peakLevel: 0, streak: 0 };
}

/** A fresh window and streak; the peak level (the unit's scale) kept or forgotten. */
export function restartTrend(state: TrendState, keepScale: boolean): TrendState {
  return { values: [], peakLevel: keepScale ? state.peakLevel : 0, streak: 0 };
}

/** Theil–Sen: the median of the slopes between every pair of points (x = position). Robust to a spike. */
export function theilSenSlope(values: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) slopes.push((values[j]! - values[i]!) / (j - i));
  }
  return median(slopes);
}

/** Adds one drift value and says whether the unit has converged. Mutates `state`. */
export function observeDrift(state: TrendState, drift: number, options: TrendOptions): TrendVerdict {
  if (!Number.isFinite(drift) || drift < 0) {
    state.streak = 0;
    return { normalisedDrift: Number.NaN, level: Number.NaN, slope: Number.NaN, streak: 0, converged: false, reason: `drift ${drift} is not a finite non-negative number` };
  }
  state.values.push(drift);
  if (state.values.length < options.window) {
    state.streak = 0;
    return { normalisedDrift: Number.NaN, level: Number.NaN, slope: Number.NaN, streak: 0, converged: false, reason: `warming up: ${state.values.length} of ${options.window} evaluations` };
  }
  const recentRaw = state.values.slice(-options.window);
  state.peakLevel = Math.max(state.peakLevel, median(recentRaw));
  // A unit whose output never changed has no scale: everything normalises to 0 (converged when flat).
  const normalise = (value: number) => (state.peakLevel > 0 ? value / state.peakLevel : 0);
  const normalisedDrift = normalise(drift);
  const recent = recentRaw.map(normalise);
  const level = median(recent);
  const slope = theilSenSlope(recent);
  const small = level <= options.driftThreshold;
  const flat = Math.abs(slope) <= options.tolerance;
  state.streak = small && flat ? state.streak + 1 : 0;
  const converged = state.streak >= options.patience;
  const reason = converged
    ? 'converged'
    : !small
      ? `still moving: drift level ${level.toFixed(3)} of its peak level > ${options.driftThreshold}`
      : !flat
        ? `not flat: slope ${slope.toFixed(4)} per evaluation, |slope| > ${options.tolerance}`
        : `settling: ${state.streak} of ${options.patience} evaluations`;
  return { normalisedDrift, level, slope, streak: state.streak, converged, reason };
}
