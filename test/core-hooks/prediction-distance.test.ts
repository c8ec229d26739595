import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { directedEffect, outputKind, predictionDistance, toProbabilities, totalVariation } from '@trainhooks/core-hooks/internal';
import { bitIdentical, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('directedEffect: the part of an effect that keeps one direction, from the effects over one lag and two', () => {
  it('a drift (twice the effect over two lags) counts whole; a random walk (√2 times) or jitter around a point (the same) counts at half', () => {
    expect(directedEffect(0.01, 0.02)).toBeCloseTo(0.01, 12);
    expect(directedEffect(0.01, Math.SQRT2 * 0.01)).toBeCloseTo(0.005, 12);
    expect(directedEffect(0.01, 0.01)).toBeCloseTo(0.005, 12);
    expect(directedEffect(0.01, 0.001)).toBeCloseTo(0.005, 12);
    // Drift d and jitter σ: e₁² = d² + σ², e₂² = 4d² + 2σ² give back d when it is the larger part.
    const [d, sigma] = [0.008, 0.006];
    expect(directedEffect(Math.hypot(d, sigma), Math.sqrt(4 * d * d + 2 * sigma * sigma))).toBeCloseTo(d, 12);
    expect(directedEffect(0, 0)).toBe(0);
    expect(directedEffect(Number.NaN, 0.01)).toBeNaN();
    expect(directedEffect(0.01, Number.POSITIVE_INFINITY)).toBeNaN();
  });
});

describe('toProbabilities and totalVariation', () => {
  it('softmax rows pass through unchanged, logits go through softmax, extra axes are flattened', () => {
    const rows = [
      [0.2, 0.3, 0.5],
      [1, 0, 0],
    ];
    const passed = toProbabilities(tf.tensor2d(rows));
    expect(passed.shape).toEqual([2, 3]);
    expect(bitIdentical(passed.dataSync(), new Float32Array(rows.flat()))).toBe(true);

    const logits = [
      [1, 2, 3],
      [0, 0, 0],
      [-1, 0.5, 4],
    ];
    const softmax = (row: number[]) => {
      const exps = row.map((value) => Math.exp(value - Math.max(...row)));
      const total = exps.reduce((sum, value) => sum + value, 0);
      return exps.map((value) => value / total);
    };
    const probabilities = toProbabilities(tf.tensor2d(logits));
    expect(probabilities.shape).toEqual([3, 3]);
    [...probabilities.dataSync()].forEach((value, i) => expect(value).toBeCloseTo(softmax(logits[Math.floor(i / 3)]!)[i % 3]!, 6));

    const threeAxes = toProbabilities(tf.tensor3d(rows.map((row) => [row])));
    expect(threeAxes.shape).toEqual([2, 3]);
    expect(bitIdentical(threeAxes.dataSync(), new Float32Array(rows.flat()))).toBe(true);
  });

  it('totalVariation: 0 for equal rows, 1 for disjoint one-hot rows, the mean of ½·Σ|p − q| by hand', () => {
    const p = tf.tensor2d([
      [0.2, 0.3, 0.5],
      [0.1, 0.1, 0.8],
    ]);
    const q = tf.tensor2d([
      [0.3, 0.3, 0.4],
      [0.5, 0.25, 0.25],
    ]);
    expect(totalVariation(p, p)).toBe(0);
    expect(totalVariation(tf.tensor2d([[1, 0, 0], [0, 1, 0]]), tf.tensor2d([[0, 1, 0], [0, 0, 1]]))).toBeCloseTo(1, 7);
    // Row 1: ½·(0.1 + 0 + 0.1) = 0.1; row 2: ½·(0.4 + 0.15 + 0.55) = 0.55; mean 0.325.
    expect(totalVariation(p, q)).toBeCloseTo(0.325, 6);
    expect(totalVariation(q, p)).toBeCloseTo(0.325, 6);
  });

  it('neither leaks tensors', () => {
    const logits = tf.tensor2d([[1, 2, 3]]);
    const before = tf.memory().numTensors;
    const probabilities = toProbabilities(logits);
    totalVariation(probabilities, probabilities);
    expect(tf.memory().numTensors).toBe(before + 1);
    probabilities.dispose();
    logits.dispose();
  });
});

describe('outputKind and predictionDistance: what kind of prediction a model makes', () => {
  it('softmax rows, sigmoid columns, logits and a regression are told apart', () => {
    const kinds = tf.tidy(() => [
      outputKind(tf.tensor2d([[0.2, 0.8], [0.5, 0.5]])),
      outputKind(tf.tensor2d([[0.2], [0.9]])),
      outputKind(tf.tensor2d([[0.2, 0.9], [0.1, 0.3]])),
      outputKind(tf.tensor2d([[2, -1], [0.5, 3]])),
      outputKind(tf.tensor2d([[2.5], [-1]])),
    ]);
    expect(kinds).toEqual(['distribution', 'bernoulli', 'bernoulli', 'logits', 'unbounded']);
  });

  it('a sigmoid binary classifier moves mass |p − q| per sample (softmax of one column would always give 0); a regression has no distance', () => {
    const [sigmoid, softmaxRows, logits, regression] = tf.tidy(() => [
      predictionDistance(tf.tensor2d([[0.2], [0.9]]), tf.tensor2d([[0.4], [0.8]]), 'bernoulli'),
      predictionDistance(tf.tensor2d([[0.2, 0.8]]), tf.tensor2d([[0.5, 0.5]]), 'distribution'),
      predictionDistance(tf.tensor2d([[0, 0]]), tf.tensor2d([[Math.log(3), 0]]), 'logits'),
      predictionDistance(tf.tensor2d([[1]]), tf.tensor2d([[2]]), 'unbounded'),
    ]);
    expect(sigmoid).toBeCloseTo((0.2 + 0.1) / 2, 6);
    expect(softmaxRows).toBeCloseTo(0.3, 6);
    expect(logits).toBeCloseTo(0.25, 6); // [0.5, 0.5] against [0.75, 0.25]
    expect(regression).toBeNaN();
  });
});
