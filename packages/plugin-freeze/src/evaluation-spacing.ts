/**
 * How many evaluation boundaries until the next full evaluation, under criterion 'output-effect'.
 * An evaluation costs the reference thread several forwards of the probe (~5 on cnn, ~7 on resnet);
 * where no core is spare it takes them from training. It is worth it only when the first active unit (the one that could freeze next)
 * might pass soon. So, while that unit's effect level is above twice the threshold and, at the rate its
 * effect has been falling (log-linear, from the first to the last of its `patience` values), would take
 * more than two evaluations to reach the threshold, evaluations are spaced out: the next one comes after
 * about half the projected steps, at most `maxEvalSpacing` boundaries later. A unit whose effect is flat
 * or rising far above the threshold — a model learning from scratch — gets the widest spacing; one whose
 * effect falls fast — a pretrained front in a fine-tuning — is evaluated at every boundary.
 */
export interface SpacingInput {
  /** The unit's effect level (median of its last `patience` effects). */
  readonly level: number;
  readonly threshold: number;
  /** The oldest and newest of the effects the level is the median of, with the steps they were measured at. */
  readonly oldest: { readonly step: number; readonly effect: number };
  readonly newest: { readonly step: number; readonly effect: number };
  readonly evalEvery: number;
  readonly maxEvalSpacing: number;
}

export function evaluationSpacing(input: SpacingInput): number {
  const { level, threshold, oldest, newest, evalEvery, maxEvalSpacing } = input;
  if (maxEvalSpacing <= 1 || !(level > 2 * threshold)) return 1;
  const steps = newest.step - oldest.step;
  if (!(oldest.effect > 0) || !(newest.effect > 0) || steps <= 0) return 1;
  const logRatePerStep = Math.log(newest.effect / oldest.effect) / steps;
  const stepsToThreshold = logRatePerStep < 0 ? Math.log(threshold / level) / logRatePerStep : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(maxEvalSpacing, Math.floor(stepsToThreshold / 2 / evalEvery)));
}
