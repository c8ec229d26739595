// What a unit's (or parameter group's) recent learning does to the predictions, judged as if it had
// trained on every step: plugin-grad-prune's pruned groups and plugin-freeze's units another plugin
// rests both move less than they would, and must not look settled for it.

/** An output effect over a stretch of training, and the updates the weights received in it. */
export interface MeasuredEffect {
  /** Probability mass of the probe's predictions that moves when the group is put back to the start of the stretch. */
  readonly effect: number;
  readonly updates: number;
}

/** Which part of the movement is judged (plugin-freeze's and plugin-grad-prune's `effectMovement`). */
export type EffectMovement = 'directed' | 'total';

/**
 * What an output effect over `steps` steps would be had the weights trained on every one of them: a
 * pruned or rested group moves less, and must not look settled for it.
 *
 * A group's movement over n updates is a drift growing like n plus jitter growing like √n, so an effect
 * measured over n updates is e² ≈ d²·n² + σ²·n (d, σ: drift and jitter per update). From the effects
 * over the last lag (n₁ updates) and over the last two lags (n₂ > n₁):
 *
 *   d² = (e₂²/n₂ − e₁²/n₁) / (n₂ − n₁),   σ² = e₁²/n₁ − d²·n₁   (each at least 0)
 *
 * and at full rate the drift over `steps` is D = d·steps, the jitter J = σ·√steps. 'directed' returns
 * max(D, ½·√(D² + J²)) — the directed part, the whole movement counting at half (as
 * directedEffect, which this equals when the weights trained every step); 'total' (or
 * without the second lag) returns e₁·steps/n₁, as if all of it were drift: never lower than the truth.
 * NaN when the group had no update in the last lag (nothing to say).
 */
export function fullRateEffect(lag: MeasuredEffect, twoLags: MeasuredEffect | null, steps: number, movement: EffectMovement): number {
  if (!(lag.updates > 0) || !Number.isFinite(lag.effect)) return Number.NaN;
  const asDrift = (lag.effect * steps) / lag.updates;
  if (movement === 'total' || !twoLags || !(twoLags.updates > lag.updates) || !Number.isFinite(twoLags.effect)) return asDrift;
  const perUpdate = (measured: MeasuredEffect) => (measured.effect * measured.effect) / measured.updates;
  const driftSquared = Math.max(0, (perUpdate(twoLags) - perUpdate(lag)) / (twoLags.updates - lag.updates));
  const jitterSquared = Math.max(0, perUpdate(lag) - driftSquared * lag.updates);
  const drift = Math.sqrt(driftSquared) * steps;
  const whole = Math.sqrt(drift * drift + jitterSquared * steps);
  return Math.max(drift, whole / 2);
}
