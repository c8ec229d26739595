import { describe, expect, it } from 'vitest';
import { directedEffect, fullRateEffect } from '@trainhooks/core-hooks/internal';

describe('fullRateEffect: an output effect as if the weights had trained every step', () => {
  it('trained every step, it is core-hooks’ directedEffect (directed) or the lag’s effect (total)', () => {
    for (const [e1, e2] of [[0.01, 0.02], [0.01, 0.014], [0.02, 0.01], [0.003, 0.005]] as const) {
      expect(fullRateEffect({ effect: e1, updates: 20 }, { effect: e2, updates: 40 }, 20, 'directed')).toBeCloseTo(directedEffect(e1, e2), 12);
      expect(fullRateEffect({ effect: e1, updates: 20 }, { effect: e2, updates: 40 }, 20, 'total')).toBe(e1);
    }
  });

  it('pruned, a drift is scaled by steps / updates and jitter by √(steps / updates)', () => {
    const [drift, jitter] = [0.001, 0.002]; // per update
    // Pure drift over 4 of 20 steps (and 7 of 40): the full-rate effect is 20 steps of it.
    expect(fullRateEffect({ effect: drift * 4, updates: 4 }, { effect: drift * 7, updates: 7 }, 20, 'directed')).toBeCloseTo(drift * 20, 12);
    // Pure jitter: no directed part; the whole (σ·√20) counts at half.
    expect(fullRateEffect({ effect: jitter * 2, updates: 4 }, { effect: jitter * Math.sqrt(7), updates: 7 }, 20, 'directed')).toBeCloseTo((jitter * Math.sqrt(20)) / 2, 12);
    // Both: e² = d²n² + σ²n at each lag.
    const measured = (n: number) => Math.sqrt(drift * drift * n * n + jitter * jitter * n);
    const expected = Math.max(drift * 20, Math.sqrt(drift * drift * 400 + jitter * jitter * 20) / 2);
    expect(fullRateEffect({ effect: measured(5), updates: 5 }, { effect: measured(12), updates: 12 }, 20, 'directed')).toBeCloseTo(expected, 12);
    // 'total', or no second lag: all of it taken as drift, never below the truth.
    expect(fullRateEffect({ effect: jitter * 2, updates: 4 }, null, 20, 'directed')).toBeCloseTo(jitter * 2 * 5, 12);
    expect(fullRateEffect({ effect: jitter * 2, updates: 4 }, { effect: 1, updates: 7 }, 20, 'total')).toBeCloseTo(jitter * 2 * 5, 12);
  });

  it('says nothing without an update in the lag; without one in the older lag, takes it all as drift', () => {
    expect(fullRateEffect({ effect: 0, updates: 0 }, { effect: 0.01, updates: 3 }, 20, 'directed')).toBeNaN();
    expect(fullRateEffect({ effect: Number.NaN, updates: 3 }, null, 20, 'total')).toBeNaN();
    expect(fullRateEffect({ effect: 0.002, updates: 4 }, { effect: 0.002, updates: 4 }, 20, 'directed')).toBeCloseTo(0.01, 12);
  });
});
