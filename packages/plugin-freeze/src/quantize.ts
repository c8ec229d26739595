/**
 * Symmetric int8 quantization per output channel, Egeria's reference-model weights: each channel
 * (the last axis — a Dense kernel's output unit, a Conv2D kernel's filter) gets its own scale
 * max|w| / 127, so one large channel does not crush the resolution of the others.
 */

/** One weight tensor, quantized. `values[i] · scales[i % channels]` is the dequantized weight. */
export interface QuantizedTensor {
  readonly shape: readonly number[];
  readonly values: Int8Array;
  /** One scale per channel of the last axis (one for a scalar). */
  readonly scales: Float32Array;
}

/** The channels of a tensor of this shape: the length of its last axis (1 for a scalar). */
export function channelCount(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : Math.max(1, shape[shape.length - 1]!);
}

export function quantizeInt8(data: Float32Array, shape: readonly number[]): QuantizedTensor {
  const channels = channelCount(shape);
  const peaks = new Float32Array(channels);
  for (let index = 0; index < data.length; index++) {
    const magnitude = Math.abs(data[index]!);
    const channel = index % channels;
    if (magnitude > peaks[channel]!) peaks[channel] = magnitude;
  }
  const scales = new Float32Array(channels);
  for (let channel = 0; channel < channels; channel++) scales[channel] = peaks[channel]! / 127;
  const values = new Int8Array(data.length);
  for (let index = 0; index < data.length; index++) {
    const scale = scales[index % channels]!;
    // An all-zero channel has scale 0: its values stay 0.
    values[index] = scale === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(data[index]! / scale)));
  }
  return { shape: [...shape], values, scales };
}

export function dequantizeInt8(quantized: QuantizedTensor): Float32Array {
  const { values, scales } = quantized;
  const channels = scales.length;
  const data = new Float32Array(values.length);
  for (let index = 0; index < values.length; index++) data[index] = values[index]! * scales[index % channels]!;
  return data;
}

/** Bytes the quantized tensor occupies (values and scales). */
export function quantizedBytes(quantized: QuantizedTensor): number {
  return quantized.values.byteLength + quantized.scales.byteLength;
}
