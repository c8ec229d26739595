/**
 * How many judging points until an output effect is measured again. A measurement costs forwards of
 * the probe (plugin-freeze: ~5 on cnn, ~7 on resnet, in its reference thread; plugin-grad-prune: one
 * per group, on the training thread), and where no core is spare it takes them from training. It is
 * worth it only when the judged thing (the unit that may freeze next, a group that may be pruned)
 * might pass soon. So, while its effect level is above twice the threshold and, at the rate its effect
 * has been falling (log-linear, from the first to the last of its `patience` values), would take more
 * than two measurements to reach the threshold, measurements are spaced out: the next one comes after
 * about half the projected steps, at most `maxSpacing` points later. An effect that is flat or rising
 * far above the threshold — a model learning from scratch — gets the widest spacing; one that falls
 * fast — a pretrained front in a fine-tuning — is measured at every point. With `side: 'below'` the
 * same holds mirrored, for a verdict that changes when the effect *rises* over the threshold (a pruned
 * group waking up): spaced out while the level is under half the threshold and, at the rate it has been
 * rising, would take more than two measurements to reach it.
 */
export interface SpacingInput {
  /** The effect level (median of the last `patience` effects). */
  readonly level: number;
  readonly threshold: number;
  /** The oldest and newest of the effects the level is the median of, with the steps they were measured at. */
  readonly oldest: { readonly step: number; readonly effect: number };
  readonly newest: { readonly step: number; readonly effect: number };
  /** Steps between two judging points. */
  readonly every: number;
  readonly maxSpacing: number;
  /** Which side of the threshold the effect sits on while the verdict holds: 'above' (default) or 'below'. */
  readonly side?: 'above' | 'below';
}

export function measurementSpacing(input: SpacingInput): number {
  const { level, threshold, oldest, newest, every, maxSpacing } = input;
  const below = input.side === 'below';
  const far = below ? level < threshold / 2 : level > 2 * threshold;
  if (maxSpacing <= 1 || !far) return 1;
  const steps = newest.step - oldest.step;
  if (!(oldest.effect > 0) || !(newest.effect > 0) || steps <= 0) return 1;
  const logRatePerStep = Math.log(newest.effect / oldest.effect) / steps;
  const approaching = below ? logRatePerStep > 0 : logRatePerStep < 0;
  const stepsToThreshold = approaching ? Math.log(threshold / level) / logRatePerStep : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(maxSpacing, Math.floor(stepsToThreshold / 2 / every)));
}
