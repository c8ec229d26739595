import type { QuantizedTensor } from './quantize.js';

// The plugin's state holds its int8 snapshots as typed arrays (a checkpoint writes them as binary
// sidecars). Copies both ways: a saved state never aliases the ring's live buffers.

export interface SavedQuantizedTensor {
  readonly shape: number[];
  readonly values: Int8Array;
  readonly scales: Float32Array;
}

export function encodeQuantized(tensor: QuantizedTensor): SavedQuantizedTensor {
  return { shape: [...tensor.shape], values: tensor.values.slice(), scales: tensor.scales.slice() };
}

export function decodeQuantized(saved: SavedQuantizedTensor): QuantizedTensor {
  return { shape: [...saved.shape], values: Int8Array.from(saved.values), scales: Float32Array.from(saved.scales) };
}
