// The disk store's reader thread, as the source of an eval'd worker: it needs no file of its own, so it
// starts the same from ESM, CommonJS, a bundle or TypeScript source. It reads a batch's records with
// positioned reads, checks each one's crc32 and id, and decodes the good ones straight into the shared
// buffer the training thread makes its tensor from — while the training thread computes.

/** A batch to read; `records` say where each record goes and which sample it must hold. */
export interface ReadRequest {
  readonly id: number;
  readonly path: string;
  readonly rowBytes: number;
  readonly rowLength: number;
  readonly precision: 'fp32' | 'fp16';
  readonly records: Array<{ row: number; slot: number; sample: number }>;
  readonly target: SharedArrayBuffer;
  /** One byte per record, 1 when read, checked and decoded (shared: readable without a message). */
  readonly found: SharedArrayBuffer;
  /** An Int32 set to 1 once `found` is final: the training thread can see it without an event-loop turn. */
  readonly done: SharedArrayBuffer;
}

/** `found[i]` is 1 for a record read, checked and decoded; 0 for one absent, corrupt or cut short. */
export interface ReadResponse {
  readonly id: number;
  readonly found: Uint8Array;
}

/** CommonJS, run with `new Worker(DISK_READER_SOURCE, { eval: true })`. Half decoding as in float16.ts. */
export const DISK_READER_SOURCE = String.raw`
const { closeSync, openSync, readSync } = require('node:fs');
const { parentPort } = require('node:worker_threads');
const { crc32 } = require('node:zlib');
const HEADER_BYTES = 8;
const descriptors = new Map();
let halfTable = null;
function halfToFloat(half) {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
function read(request) {
  const found = new Uint8Array(request.found);
  let descriptor = descriptors.get(request.path);
  if (descriptor === undefined) {
    try { descriptor = openSync(request.path, 'r'); } catch { return found; }
    descriptors.set(request.path, descriptor);
  }
  const recordBytes = HEADER_BYTES + request.rowBytes;
  const record = Buffer.allocUnsafe(recordBytes);
  const target = new Float32Array(request.target);
  request.records.forEach(({ row, slot, sample }, index) => {
    let bytesRead = -1;
    try { bytesRead = readSync(descriptor, record, 0, recordBytes, slot * recordBytes); } catch { return; }
    if (bytesRead !== recordBytes || record.readInt32LE(4) !== sample || record.readUInt32LE(0) !== crc32(record.subarray(4))) return;
    const offset = row * request.rowLength;
    if (request.precision === 'fp32') {
      target.set(new Float32Array(record.buffer, record.byteOffset + HEADER_BYTES, request.rowLength), offset);
    } else {
      if (!halfTable) { halfTable = new Float32Array(65536); for (let bits = 0; bits < 65536; bits++) halfTable[bits] = halfToFloat(bits); }
      const halves = new Uint16Array(record.buffer, record.byteOffset + HEADER_BYTES, request.rowLength);
      for (let i = 0; i < halves.length; i++) target[offset + i] = halfTable[halves[i]];
    }
    found[index] = 1;
  });
  return found;
}
parentPort.on('message', (message) => {
  if (message.close !== undefined) {
    const descriptor = descriptors.get(message.close);
    descriptors.delete(message.close);
    if (descriptor !== undefined) closeSync(descriptor);
    return;
  }
  read(message);
  Atomics.store(new Int32Array(message.done), 0, 1);
  parentPort.postMessage({ id: message.id });
});
`;
