/** A group's distance from its anchor snapshot, and the updates it received since. */
export interface Displacement {
  /** ‖w − w_anchor‖ (any fixed normalisation, e.g. / ‖w‖: only ratios are used). */
  readonly distance: number;
  readonly updates: number;
}

/**
 * How the distance from an anchor grows with the updates since it, as the exponent g of
 * distance² ∝ updates^g, from two points after the same anchor:
 *   g = ln(d₂² / d₁²) / ln(n₂ / n₁).
 * g ≈ 2 while the weights travel in one direction (the layer still learns), ≈ 1 for a random walk
 * (steps of constant size in random directions: not settled either), ≈ 0 — or below, when the
 * weights drift back — once they only fluctuate around a point (the distance saturates). Unlike a
 * rate compared with its own peak, it needs no history: "moves less than at the start" and "has stopped
 * moving" read differently. 0 when the weights are back at the anchor at the end (e.g. updates below
 * float32's resolution); null when the two points cannot say (no updates between them or before the
 * first, or none moved the weights before the first point but some did after).
 */
export function growthExponent(first: Displacement, second: Displacement): number | null {
  if (!(first.updates > 0) || !(second.updates > first.updates) || !Number.isFinite(first.distance) || !Number.isFinite(second.distance)) return null;
  // Back at the anchor (in float32: updates below the weights' resolution): nothing left that moves.
  if (second.distance === 0) return 0;
  if (!(first.distance > 0)) return null;
  return (2 * Math.log(second.distance / first.distance)) / Math.log(second.updates / first.updates);
}

/** Convergence from the growth exponent: 1 when the distance has saturated (g ≤ 0), 0 from a random walk (g ≥ 1) up. */
export function saturationConvergence(growth: number): number {
  return Math.min(1, Math.max(0, 1 - growth));
}
