import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_FREEZE_OPTIONS,
  dequantizeInt8,
  emptyTrend,
  freezePlugin,
  observeDrift,
  quantizeInt8,
  SnapshotRing,
  spLoss,
  theilSenSlope,
  type TrendOptions,
} from '@trainhooks/plugin-freeze/internal';
import { useCpu } from '../core-hooks/helpers.js';

beforeAll(useCpu);

/** The SP loss by hand, in plain loops over nested arrays. */
function spLossByHand(a: number[][], b: number[][]): number {
  const gram = (rows: number[][]) => {
    const g = rows.map((r) => rows.map((s) => r.reduce((sum, value, k) => sum + value * s[k]!, 0)));
    return g.map((row) => {
      const norm = Math.sqrt(row.reduce((sum, value) => sum + value * value, 0)) + 1e-12;
      return row.map((value) => value / norm);
    });
  };
  const [ga, gb] = [gram(a), gram(b)];
  let sum = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a.length; j++) sum += (ga[i]![j]! - gb[i]![j]!) ** 2;
  return sum / (a.length * a.length);
}

describe('spLoss', () => {
  it('matches a hand computation, flattening every axis after the batch', () => {
    const a = [[1, 2, 0, -1], [0.5, -1, 2, 1], [3, 0, 1, 1]];
    const b = [[1, 1, 1, -1], [0, -1, 2, 2], [2, 1, 0, 1]];
    const loss = spLoss(tf.tensor(a.flat(), [3, 2, 2]), tf.tensor(b.flat(), [3, 2, 2]));
    expect(loss.dataSync()[0]).toBeCloseTo(spLossByHand(a, b), 6);
    // Identical activations: zero; a rescaled copy: zero too (the Gram rows are normalised).
    expect(spLoss(tf.tensor(a), tf.tensor(a)).dataSync()[0]).toBeCloseTo(0, 10);
    expect(spLoss(tf.tensor(a), tf.mul(tf.tensor(a), 7)).dataSync()[0]).toBeCloseTo(0, 10);
    // Activations of other widths compare fine (only the sample axis must agree).
    expect(() => spLoss(tf.ones([3, 4]), tf.ones([2, 4]))).toThrow(/3 samples against 2/);
  });

  it('an all-zero sample (dead ReLU) gives a number, not NaN', () => {
    const loss = spLoss(tf.tensor([[0, 0], [1, 2]]), tf.tensor([[1, 0], [1, 2]]));
    expect(Number.isFinite(loss.dataSync()[0]!)).toBe(true);
  });
});

describe('int8 quantization per output channel', () => {
  it('each value is within half a step of its channel, the peak is exact, scales are per channel', () => {
    const shape = [3, 3, 4, 5]; // a conv kernel: 5 filters
    const data = Float32Array.from({ length: 3 * 3 * 4 * 5 }, (_, i) => Math.sin(i * 12.9898) * (1 + (i % 5) * 10));
    const quantized = quantizeInt8(data, shape);
    expect(quantized.scales.length).toBe(5);
    expect(quantized.values).toBeInstanceOf(Int8Array);
    const restored = dequantizeInt8(quantized);
    for (let channel = 0; channel < 5; channel++) {
      let peak = 0;
      for (let i = channel; i < data.length; i += 5) peak = Math.max(peak, Math.abs(data[i]!));
      expect(quantized.scales[channel]).toBeCloseTo(peak / 127, 6);
      for (let i = channel; i < data.length; i += 5) {
        expect(Math.abs(restored[i]! - data[i]!)).toBeLessThanOrEqual(quantized.scales[channel]! / 2 + 1e-7);
      }
    }
    // The channels differ by an order of magnitude: one shared scale would crush the small ones.
    expect(quantized.scales[4]! / quantized.scales[0]!).toBeGreaterThan(10);
  });

  it('zero channels and scalars', () => {
    const zeros = quantizeInt8(new Float32Array([0, 1, 0, -2]), [2, 2]);
    expect([...dequantizeInt8(zeros)]).toEqual([0, expect.closeTo(1, 1), 0, -2]);
    const scalar = quantizeInt8(new Float32Array([0.5]), []);
    expect(dequantizeInt8(scalar)[0]).toBeCloseTo(0.5, 6);
  });
});

describe('the trend test', () => {
  const options: TrendOptions = { window: 5, tolerance: 0.03, driftThreshold: 0.25, patience: 3 };
  const run = (series: number[]) => {
    const state = emptyTrend();
    return series.map((value) => observeDrift(state, value, options));
  };

  it('Theil–Sen ignores one spike', () => {
    expect(theilSenSlope([1, 2, 3, 4, 5])).toBeCloseTo(1);
    expect(theilSenSlope([1, 2, 30, 4, 5])).toBeCloseTo(1);
  });

  it('a series that falls and flattens converges after `patience` flat evaluations', () => {
    const verdicts = run([1, 0.9, 0.8, 0.7, 0.6, 0.4, 0.2, 0.1, 0.08, 0.08, 0.08, 0.07, 0.08, 0.08, 0.08]);
    const first = verdicts.findIndex((v) => v.converged);
    expect(first).toBeGreaterThan(8);
    expect(verdicts[first]!.reason).toBe('converged');
    expect(verdicts.slice(0, first).every((v) => !v.converged)).toBe(true);
  });

  it('rising, sawtooth, and still-falling series do not converge, and say why', () => {
    const rising = run(Array.from({ length: 30 }, (_, i) => 1 + i * 0.1));
    expect(rising.some((v) => v.converged)).toBe(false);
    expect(rising.at(-1)!.reason).toMatch(/still moving/);

    // A reference refreshed every 4 evaluations: drift ramps up from ~0 and drops back.
    const sawtooth = run(Array.from({ length: 40 }, (_, i) => 0.02 + (i % 4) * 0.3));
    expect(sawtooth.some((v) => v.converged)).toBe(false);

    const falling = run([1, 0.8, 0.6, 0.5, 0.4, 0.3, 0.22, 0.18, 0.14, 0.1, 0.08, 0.06]);
    expect(falling.slice(0, 9).some((v) => v.converged)).toBe(false);
    expect(falling.find((v) => !v.converged && /not flat|still moving/.test(v.reason))).toBeDefined();

    const warming = run([1, 0.1]);
    expect(warming[1]!.reason).toMatch(/warming up: 2 of 5/);
  });

  it('non-finite drift resets the streak instead of poisoning the series', () => {
    const state = emptyTrend();
    const verdict = observeDrift(state, Number.NaN, options);
    expect(verdict.converged).toBe(false);
    expect(state.values).toEqual([]);
  });
});

describe('snapshot ring and options', () => {
  it('serves the snapshot `lag` evaluations old once full', () => {
    const ring = new SnapshotRing(3);
    const snap = (step: number) => ({ step, tensors: [quantizeInt8(new Float32Array([step]), [1])] });
    ring.push(snap(1));
    ring.push(snap(2));
    expect(ring.reference).toBeNull();
    ring.push(snap(3));
    expect(ring.reference!.step).toBe(1);
    ring.push(snap(4));
    expect(ring.reference!.step).toBe(2);
    expect(ring.size).toBe(3);
    expect(ring.bytes).toBe(3 * (1 + 4));
  });

  it('with a capacity of twice the lag it also serves the snapshot twice as old; ago(n) is the n-th newest', () => {
    const ring = new SnapshotRing(2, 4);
    const snap = (step: number) => ({ step, tensors: [quantizeInt8(new Float32Array([step]), [1])] });
    for (const step of [1, 2, 3]) ring.push(snap(step));
    expect(ring.reference!.step).toBe(2);
    expect(ring.ago(4)).toBeNull();
    ring.push(snap(4));
    ring.push(snap(5));
    expect(ring.size).toBe(4);
    expect([ring.ago(1)!.step, ring.reference!.step, ring.ago(4)!.step]).toEqual([5, 4, 2]);
    expect([ring.ago(0), ring.ago(5)]).toEqual([null, null]);
    // A saved ring longer than the capacity keeps its newest snapshots.
    ring.replace([1, 2, 3, 4, 5, 6].map(snap));
    expect(ring.contents.map((snapshot) => snapshot.step)).toEqual([3, 4, 5, 6]);
    expect(new SnapshotRing(3, 1).capacity).toBe(3);
  });

  it('options are validated, naming option, value and range', () => {
    expect(freezePlugin().options).toEqual(DEFAULT_FREEZE_OPTIONS);
    expect(() => freezePlugin({ evalEvery: 0 })).toThrow(/option evalEvery must be an integer ≥ 1, got 0/);
    expect(() => freezePlugin({ window: 1 })).toThrow(/option window must be an integer ≥ 2/);
    expect(() => freezePlugin({ tolerance: 0 })).toThrow(/option tolerance must be a number in \(0, 1\], got 0/);
    expect(() => freezePlugin({ unfreezeOnLrDrop: 1.5 })).toThrow(/option unfreezeOnLrDrop must be a number in \(0, 1\]/);
    expect(() => freezePlugin({ reference: 'gpu' as never })).toThrow(/option reference must be 'auto', 'worker' or 'main-thread', got 'gpu'/);
    expect(() => freezePlugin({ maxFrozen: 2 } as never)).toThrow(/option maxFrozen must be one of criterion, effectThreshold, effectMovement, warmupSteps/);
    expect(() => freezePlugin({ probe: [1, 2] as never })).toThrow(/option probe must be null or a tf.Tensor/);
    expect(() => freezePlugin({ criterion: 'trend' as never })).toThrow(/option criterion must be 'output-effect' or 'drift-trend', got 'trend'/);
    expect(() => freezePlugin({ effectThreshold: 0 })).toThrow(/option effectThreshold must be a number in \(0, 1\], got 0/);
    expect(() => freezePlugin({ maxFrozenUnits: 'all-but-0' as never })).toThrow(/option maxFrozenUnits must be an integer ≥ 0, 'all-but-head', 'all-but-classifier' or 'all-but-N'/);
    expect(freezePlugin({ criterion: 'drift-trend', maxFrozenUnits: 'all-but-3' }).options.criterion).toBe('drift-trend');
  });
});

describe('the trend test scale', () => {
  it('one early spike does not set the scale: a stationary noisy series stays "still moving"', () => {
    const options: TrendOptions = { window: 5, tolerance: 0.03, driftThreshold: 0.25, patience: 3 };
    const state = emptyTrend();
    const series = [20, ...Array.from({ length: 40 }, (_, i) => 1 + 0.5 * Math.sin(i * 1.7))];
    const verdicts = series.map((value) => observeDrift(state, value, options));
    expect(verdicts.some((v) => v.converged)).toBe(false);
    expect(verdicts.at(-1)!.level).toBeGreaterThan(0.5);
  });
});
