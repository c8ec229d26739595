import { describe, expect, it } from 'vitest';
import { measurementSpacing, type SpacingInput } from '@trainhooks/core-hooks/internal';

/** threshold 1 %, evaluations every 20 steps, at most 4 boundaries apart; effects 40 steps apart. */
function spacing(level: number, oldest: number, newest: number, overrides: Partial<SpacingInput> = {}): number {
  return measurementSpacing({
    level,
    threshold: 0.01,
    oldest: { step: 100, effect: oldest },
    newest: { step: 140, effect: newest },
    every: 20,
    maxSpacing: 4,
    ...overrides,
  });
}

describe('measurementSpacing: measure again when the judged effect could pass its threshold', () => {
  it('near the threshold (level ≤ 2×) every boundary evaluates, however the effect moves', () => {
    expect(spacing(0.02, 0.02, 0.02)).toBe(1);
    expect(spacing(0.015, 0.01, 0.03)).toBe(1);
    expect(spacing(0.005, 0.005, 0.005)).toBe(1);
  });

  it('far above and flat or rising: the widest spacing', () => {
    expect(spacing(0.05, 0.05, 0.05)).toBe(4);
    expect(spacing(0.05, 0.04, 0.06)).toBe(4);
    expect(spacing(0.05, 0.05, 0.05, { maxSpacing: 2 })).toBe(2);
  });

  it('far above but falling: half the projected steps to the threshold, in boundaries, at least 1', () => {
    // Halving every 40 steps from a level of 8 %: 3 halvings = 120 steps to 1 % → evaluate after 60 steps = 3 boundaries.
    expect(spacing(0.08, 0.16, 0.08)).toBe(3);
    // Falling 10× in 40 steps (a pretrained front settling, or a first transient): evaluate at the next boundary.
    expect(spacing(0.05, 0.5, 0.05)).toBe(1);
    // Slowly: the projection is past 4 boundaries, so 4.
    expect(spacing(0.05, 0.055, 0.05)).toBe(4);
  });

  it("side 'below', mirrored: far under half the threshold and flat or falling, the widest spacing; rising, half the projected steps", () => {
    const below = { side: 'below' } as const;
    expect(spacing(0.002, 0.002, 0.002, below)).toBe(4);
    expect(spacing(0.002, 0.003, 0.001, below)).toBe(4);
    // Near it (level ≥ ½ threshold): every boundary.
    expect(spacing(0.006, 0.006, 0.006, below)).toBe(1);
    // Doubling every 40 steps from 0.125 %: 3 doublings = 120 steps to 1 % → after 60 steps = 3 boundaries.
    expect(spacing(0.00125, 0.000625, 0.00125, below)).toBe(3);
    // Rising 10× in 40 steps (a pruned group waking up): the next boundary.
    expect(spacing(0.003, 0.0003, 0.003, below)).toBe(1);
    // The default side is 'above': a level far under the threshold is not spaced there.
    expect(spacing(0.002, 0.002, 0.002)).toBe(1);
    expect(spacing(Number.NaN, 0.002, 0.002, below)).toBe(1);
  });

  it('maxSpacing 1 turns spacing off; unusable input (no level, zero effects, no elapsed steps) evaluates', () => {
    expect(spacing(0.05, 0.05, 0.05, { maxSpacing: 1 })).toBe(1);
    expect(spacing(Number.NaN, 0.05, 0.05)).toBe(1);
    expect(spacing(0.05, 0, 0.05)).toBe(1);
    expect(spacing(0.05, 0.05, 0.05, { newest: { step: 100, effect: 0.05 } })).toBe(1);
  });
});
