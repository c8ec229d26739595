// IEEE 754 half precision: half the bytes of fp32, about three significant decimal digits (relative
// error ≤ 2⁻¹¹ in the normal range, |x| ≥ 6.1e-5). act-cache's fp16 stores and the CLI's float16 model files use it.

const floatView = new Float32Array(1);
const bitsView = new Uint32Array(floatView.buffer);

/** One float32 to half bits, rounding to nearest even; overflow → ±Infinity, NaN stays NaN. */
export function toHalf(value: number): number {
  floatView[0] = value;
  const bits = bitsView[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf / NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // too large: Infinity
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the implicit leading 1 in, round to nearest even.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (half + (remainder > halfway || (remainder === halfway && (half & 1)) ? 1 : 0));
  }
  const half = sign | (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and up to Infinity).
  return half + (remainder > 0x1000 || (remainder === 0x1000 && (half & 1)) ? 1 : 0);
}

/** Half bits to a number. */
export function fromHalf(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export function encodeHalf(values: Float32Array, into: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) into[i] = toHalf(values[i]!);
  return into;
}

let decodeTable: Float32Array | null = null;

/** Halves to floats through a 65536-entry table (256 kB, built once): a load per element. */
export function decodeHalf(halves: Uint16Array, into: Float32Array, offset = 0): Float32Array {
  if (!decodeTable) {
    decodeTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) decodeTable[bits] = fromHalf(bits);
  }
  const table = decodeTable;
  for (let i = 0; i < halves.length; i++) into[offset + i] = table[halves[i]!]!;
  return into;
}
