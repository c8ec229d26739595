// IDX: the tiny big-endian tensor format of MNIST and Fashion-MNIST.
// Layout: 2 zero bytes, a type byte (0x08 = unsigned byte), a rank byte, one uint32 per dimension, then the data.
import { gunzipSync, gzipSync } from 'node:zlib';

const UNSIGNED_BYTE_TYPE = 0x08;
const GZIP_MAGIC = [0x1f, 0x8b] as const;
/** Byte 9 of a gzip header names the OS that wrote it; zlib fills in the build platform's, we pin Unix. */
const GZIP_OS_BYTE = 9;
const GZIP_OS_UNIX = 0x03;

export interface IdxArray {
  /** Sizes of each dimension, outermost first (e.g. [count, rows, cols] for idx3). */
  shape: number[];
  /** Row-major unsigned bytes, product(shape) of them. */
  data: Uint8Array;
}

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  /** count × height × width pixels, row-major, 0..255. */
  pixels: Uint8Array;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Accepts both the .gz files that are distributed and already unpacked ones. */
export function maybeGunzip(bytes: Uint8Array, source = 'IDX data'): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (error) {
    throw new Error(`${source}: starts like gzip (1f 8b) but could not be decompressed: ${String(error)}`);
  }
}

/** Parses an IDX file of unsigned bytes of any rank; gzip is detected by its magic bytes. */
export function parseIdx(input: Uint8Array, source = 'IDX data'): IdxArray {
  const bytes = maybeGunzip(input, source);
  if (bytes.length < 4) throw new Error(`${source}: ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${source}: bad IDX magic ${hex(bytes.subarray(0, 4))}; expected 00 00 08 <rank>`);
  }
  if (bytes[2] !== UNSIGNED_BYTE_TYPE) {
    throw new Error(`${source}: IDX element type 0x${bytes[2].toString(16)} is not supported; only 0x08 (unsigned byte)`);
  }
  const rank = bytes[3];
  if (rank === 0) throw new Error(`${source}: IDX rank 0 is not supported`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new Error(`${source}: ${bytes.length} bytes is too short for a rank-${rank} IDX header (${headerBytes})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual !== expected) {
    throw new Error(`${source}: IDX header says shape [${shape.join(', ')}] = ${expected} bytes, file has ${actual}`);
  }
  return { shape, data: bytes.subarray(headerBytes) };
}

/** idx1: a vector of labels (magic 00 00 08 01). */
export function parseIdxLabels(input: Uint8Array, source = 'IDX labels'): Uint8Array {
  const { shape, data } = parseIdx(input, source);
  if (shape.length !== 1) throw new Error(`${source}: expected an idx1 label file (rank 1), got rank ${shape.length}`);
  return data;
}

/** idx3: a stack of greyscale images (magic 00 00 08 03). */
export function parseIdxImages(input: Uint8Array, source = 'IDX images'): IdxImages {
  const { shape, data } = parseIdx(input, source);
  if (shape.length !== 3) throw new Error(`${source}: expected an idx3 image file (rank 3), got rank ${shape.length}`);
  const [count, height, width] = shape;
  return { count, height, width, pixels: data };
}

/** Writes unsigned bytes as IDX; the inverse of parseIdx. */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`encodeIdx: shape [${shape.join(', ')}] needs ${expected} bytes, got ${data.length}`);
  const headerBytes = 4 + 4 * shape.length;
  const out = new Uint8Array(headerBytes + data.length);
  out.set([0, 0, UNSIGNED_BYTE_TYPE, shape.length]);
  const view = new DataView(out.buffer);
  shape.forEach((size, i) => view.setUint32(4 + 4 * i, size, false));
  out.set(data, headerBytes);
  return out;
}

/**
 * gzip that gives the same bytes on every run: level 9, mtime 0 (zlib's default when no header is set),
 * and a pinned OS byte so the file does not depend on the platform that wrote it.
 */
export function gzipDeterministic(bytes: Uint8Array): Uint8Array {
  const gz = new Uint8Array(gzipSync(bytes, { level: 9 }));
  gz.fill(0, 4, 8); // mtime
  gz[GZIP_OS_BYTE] = GZIP_OS_UNIX;
  return gz;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
