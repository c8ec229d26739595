import type { QuantizedTensor } from './quantize.js';

// Plugin state is plain JSON-able data: typed arrays travel as base64 of their bytes.

export function encodeBytes(array: ArrayBufferView): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function decodeBytes(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'base64');
  // A copy of exactly these bytes, aligned for any typed array.
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export function decodeFloat32(text: string): Float32Array {
  return new Float32Array(decodeBytes(text));
}

export interface SavedQuantizedTensor {
  readonly shape: number[];
  readonly values: string;
  readonly scales: string;
}

export function encodeQuantized(tensor: QuantizedTensor): SavedQuantizedTensor {
  return { shape: [...tensor.shape], values: encodeBytes(tensor.values), scales: encodeBytes(tensor.scales) };
}

export function decodeQuantized(saved: SavedQuantizedTensor): QuantizedTensor {
  return { shape: [...saved.shape], values: new Int8Array(decodeBytes(saved.values)), scales: decodeFloat32(saved.scales) };
}
