import { directedEffect, fullRateEffect, type StepContext, type Unit } from '@trainhooks/core-hooks/internal';

/**
 * How much each unit has trained: per unit, the steps so far on which it got an update, each weighted
 * by the share of its parameters that did (another plugin may rest a unit, or part of it, through
 * `context.skip` — grad-prune does). An output effect measured over a window in which a unit trained on
 * a fraction of the steps is that much smaller; judged as it is, a rested unit would look settled for
 * being rested, and freeze.
 */
export class TrainedSteps {
  private counts: number[];
  private readonly sizes: number[];

  constructor(private readonly units: readonly Unit[]) {
    this.counts = units.map(() => 0);
    this.sizes = units.map((unit) => unit.variables.reduce((sum, variable) => sum + variable.size, 0));
  }

  /** After a step: every active unit trained on it, minus the share of its parameters the step skipped. */
  record(context: StepContext): void {
    for (let index = context.frozenPrefix; index < this.units.length; index++) {
      const size = this.sizes[index]!;
      let rested = 0;
      if (context.skip.size > 0) for (const variable of this.units[index]!.variables) if (context.skip.has(variable.name)) rested += variable.size;
      this.counts[index] = this.counts[index]! + (size > 0 ? (size - rested) / size : 1);
    }
  }

  /** The counts now (cumulative, per unit): what a snapshot keeps to measure a window from. */
  get now(): number[] {
    return [...this.counts];
  }

  set now(counts: readonly number[]) {
    if (counts.length === this.counts.length) this.counts = [...counts];
  }
}

/** A stretch of training between a snapshot and now: its steps and, per unit, the steps it trained on. */
export interface TrainingWindow {
  readonly steps: number;
  readonly trained: readonly number[];
}

/** The window from a snapshot (taken at `fromStep` with counts `from`; absent in older states: trained every step) to `toStep` with counts `to`. */
export function trainingWindow(fromStep: number, from: readonly number[] | undefined, toStep: number, to: readonly number[]): TrainingWindow {
  const steps = toStep - fromStep;
  return { steps, trained: to.map((count, index) => (from ? count - from[index]! : steps)) };
}

/** The share of the window's steps the unit trained on (1 without a window: an older state, nothing counted). */
export function trainedShare(window: TrainingWindow | null, unit: number): number {
  return window ? Math.min(1, (window.trained[unit] ?? window.steps) / window.steps) : 1;
}

/**
 * What is judged of a unit's effects over one lag (and, for the directed part, two), as if it had
 * trained on every step of the lag: core-hooks' fullRateEffect, which scales a drift by steps / trained
 * and jitter by √(steps / trained) — with only the lag (or 'total' movement) all of it as drift, never
 * lower than the truth. A unit that trained on every step gets exactly what it got before anything was
 * rested (the lag's effect, or directedEffect). null when it did not train in the lag: nothing to judge.
 */
export function judgedEffect(unit: number, lag: { effect: number; window: TrainingWindow | null }, far: { effect: number; window: TrainingWindow | null } | null): number | null {
  const steps = lag.window?.steps ?? 0;
  const trainedIn = (window: TrainingWindow | null) => (window ? (window.trained[unit] ?? window.steps) : Number.POSITIVE_INFINITY);
  const lagTrained = trainedIn(lag.window);
  if (!(lagTrained > 0)) return null;
  // Within a rounding error of every step: as measured, bit for bit.
  const full = (window: TrainingWindow | null) => !window || trainedIn(window) >= window.steps - 1e-9;
  if (full(lag.window) && (!far || full(far.window))) return far ? directedEffect(lag.effect, far.effect) : lag.effect;
  const farMeasured = far ? { effect: far.effect, updates: trainedIn(far.window) } : null;
  return fullRateEffect({ effect: lag.effect, updates: lagTrained }, farMeasured, steps, far ? 'directed' : 'total');
}
