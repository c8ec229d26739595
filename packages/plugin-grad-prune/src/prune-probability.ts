/**
 * Skip probability of a group from its convergence c = 1 − (smoothed change rate / its peak), in [0, 1].
 * Zero until c reaches `startAt`, then a linear ramp that reaches `pMax` at c = `fullAt`:
 *   p = pMax · clamp((c − startAt) / (fullAt − startAt), 0, 1).
 * pMax < 1, so a group that no longer changes still wakes up now and then and keeps being measured.
 */
export function pruneProbability(convergence: number, startAt: number, fullAt: number, pMax: number): number {
  if (!Number.isFinite(convergence)) return 0;
  const ramp = (convergence - startAt) / (fullAt - startAt);
  return pMax * Math.min(1, Math.max(0, ramp));
}
