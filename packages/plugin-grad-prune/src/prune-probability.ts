/**
 * Skip probability of a group from its convergence c = 1 − (smoothed change rate / its peak), in [0, 1].
 * Zero until c reaches `startAt`, then a linear ramp to `pMax` at c = 1:
 *   p = pMax · clamp((c − startAt) / (1 − startAt), 0, 1).
 * A group whose change rate halved (c = 0.5) starts being pruned at the default startAt; one that no
 * longer changes is skipped with pMax (< 1), so it still wakes up and keeps being measured.
 */
export function pruneProbability(convergence: number, startAt: number, pMax: number): number {
  if (!Number.isFinite(convergence)) return 0;
  const ramp = (convergence - startAt) / (1 - startAt);
  return pMax * Math.min(1, Math.max(0, ramp));
}
