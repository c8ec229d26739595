import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeIdx, gzipDeterministic, isGzip, parseIdx, parseIdxImages, parseIdxLabels } from '@trainhooks/cli/internal';

const labels = Uint8Array.from([3, 1, 4, 1, 5]);
const pixels = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);

describe('IDX parsing', () => {
  it('reads raw idx1 labels and idx3 images', () => {
    expect(Array.from(parseIdxLabels(encodeIdx([5], labels)))).toEqual([3, 1, 4, 1, 5]);
    const images = parseIdxImages(encodeIdx([2, 3, 4], pixels));
    expect([images.count, images.height, images.width]).toEqual([2, 3, 4]);
    expect(Array.from(images.pixels)).toEqual(Array.from(pixels));
  });

  it('writes the MNIST header: magic 00 00 08 rank, big-endian sizes', () => {
    const bytes = encodeIdx([2, 3, 4], pixels);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 2]);
  });

  it('detects gzip by its magic bytes', () => {
    const gz = new Uint8Array(gzipSync(encodeIdx([5], labels)));
    expect(isGzip(gz)).toBe(true);
    expect(Array.from(parseIdxLabels(gz))).toEqual([3, 1, 4, 1, 5]);
    expect(parseIdx(gzipDeterministic(encodeIdx([2, 3, 4], pixels))).shape).toEqual([2, 3, 4]);
  });

  it('gzips deterministically', () => {
    const a = gzipDeterministic(encodeIdx([2, 3, 4], pixels));
    const b = gzipDeterministic(encodeIdx([2, 3, 4], pixels));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Array.from(a.subarray(4, 8))).toEqual([0, 0, 0, 0]); // no timestamp
  });

  it('rejects bad magic, unsupported types, wrong rank and truncated data with clear errors', () => {
    expect(() => parseIdx(Uint8Array.from([0x12, 0x34, 8, 1, 0, 0, 0, 0]), 'bad.idx')).toThrow(/bad\.idx: bad IDX magic 12 34 08 01/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]))).toThrow(/element type 0xd/);
    expect(() => parseIdxLabels(encodeIdx([2, 3, 4], pixels))).toThrow(/expected an idx1 label file/);
    expect(() => parseIdxImages(encodeIdx([5], labels))).toThrow(/expected an idx3 image file/);
    expect(() => parseIdx(encodeIdx([5], labels).subarray(0, 10))).toThrow(/shape \[5\] = 5 bytes, file has 2/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 8]))).toThrow(/too short/);
    expect(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]))).toThrow(/could not be decompressed/);
  });
});
