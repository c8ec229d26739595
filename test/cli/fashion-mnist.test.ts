import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEBIAN_FASHION_MNIST_DIR,
  EMBEDDED_SUBSET_DIR,
  FASHION_MNIST_CLASSES,
  encodeIdx,
  loadFashionMnist,
  parseDataArgs,
} from '@trainhooks/cli/internal';

describe('embedded Fashion-MNIST subset', () => {
  const train = loadFashionMnist({ split: 'train' });
  const test = loadFashionMnist({ split: 'test' });

  it('holds 10,000 training and 2,000 test images of 28×28', () => {
    expect(train.count).toBe(10_000);
    expect(test.count).toBe(2_000);
    for (const set of [train, test]) {
      expect([set.height, set.width]).toEqual([28, 28]);
      expect(set.images.length).toBe(set.count * 784);
      expect(set.labels.length).toBe(set.count);
      expect(set.source).toBe(EMBEDDED_SUBSET_DIR);
    }
    expect(FASHION_MNIST_CLASSES).toHaveLength(10);
  });

  it('has labels 0..9 with every class present, pixels in [0, 1]', () => {
    for (const set of [train, test]) {
      expect(new Set(set.labels).size).toBe(10);
      expect(Math.max(...set.labels)).toBe(9);
      let min = Infinity;
      let max = -Infinity;
      for (const p of set.images) {
        min = Math.min(min, p);
        max = Math.max(max, p);
      }
      expect(min).toBe(0);
      expect(max).toBe(1);
    }
  });

  it('gives each sample its index in the file as id', () => {
    expect(Array.from(train.ids.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(train.ids[9_999]).toBe(9_999);
  });

  it('defaults to the training split and honours limit', () => {
    const small = loadFashionMnist({ limit: 5 });
    expect(small.split).toBe('train');
    expect(small.count).toBe(5);
    expect(Array.from(small.labels)).toEqual(Array.from(train.labels.subarray(0, 5)));
    expect(Array.from(small.images)).toEqual(Array.from(train.images.subarray(0, 5 * 784)));
    expect(() => loadFashionMnist({ limit: -1 })).toThrow(/limit/);
  });

  it.skipIf(!existsSync(DEBIAN_FASHION_MNIST_DIR))('is the head of the full Debian set', () => {
    const full = loadFashionMnist({ full: true, split: 'test' });
    expect(full.count).toBe(10_000);
    expect(full.source).toBe(DEBIAN_FASHION_MNIST_DIR);
    expect(Buffer.from(full.labels.subarray(0, 2_000)).equals(Buffer.from(test.labels))).toBe(true);
    // Buffer.equals: toEqual on 1.5M floats takes seconds.
    expect(Buffer.from(full.images.buffer, 0, 2_000 * 784 * 4).equals(Buffer.from(test.images.buffer))).toBe(true);
  });
});

describe('loading from a directory', () => {
  it('reads raw (ungzipped) IDX files from dataDir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fashion-'));
    const pixels = Uint8Array.from({ length: 3 * 784 }, (_, i) => i % 256);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx([3, 28, 28], pixels));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([7, 0, 9])));
    const set = loadFashionMnist({ dataDir: dir, split: 'test' });
    expect(set.count).toBe(3);
    expect(Array.from(set.labels)).toEqual([7, 0, 9]);
    expect(set.images[255]).toBe(1);
    expect(set.source).toBe(dir);
    expect(() => loadFashionMnist({ dataDir: dir, split: 'train' })).toThrow(/neither train-images-idx3-ubyte\.gz nor train-images-idx3-ubyte/);
  });

  it('rejects mismatched image and label counts and out-of-range labels', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fashion-'));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx([2, 28, 28], new Uint8Array(2 * 784)));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([1, 2, 3])));
    expect(() => loadFashionMnist({ dataDir: dir, split: 'test' })).toThrow(/2 images but 3 labels/);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([2], Uint8Array.from([1, 12])));
    expect(() => loadFashionMnist({ dataDir: dir, split: 'test' })).toThrow(/sample 1 has label 12/);
  });

  it('names a missing directory', () => {
    expect(() => loadFashionMnist({ dataDir: '/nonexistent/fashion' })).toThrow(/\/nonexistent\/fashion does not exist/);
  });
});

describe('parseDataArgs', () => {
  it('understands --data-dir DIR, --data-dir=DIR and --full, ignoring the rest', () => {
    expect(parseDataArgs(['--model', 'cnn', '--data-dir', '/d', '--epochs', '2'])).toEqual({ dataDir: '/d' });
    expect(parseDataArgs(['--data-dir=/e', '--full'])).toEqual({ dataDir: '/e', full: true });
    expect(parseDataArgs([])).toEqual({});
    expect(() => parseDataArgs(['--data-dir'])).toThrow(/needs a directory/);
  });
});
