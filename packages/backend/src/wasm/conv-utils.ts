// Shared pieces of the wasm convolution-gradient kernels: thin wrappers over the backend's own
// convolution kernels (run in the kernel's KernelScope, which frees the intermediates), and the
// geometry that turns a gradient into a forward convolution. Everything here composes the backend's
// kernels; nothing loops over tensor data.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelScope } from '../kernel-scope.js';

type Info = tf.TensorInfo;
type Shape4 = [number, number, number, number];
type Pair = [number, number];

/** Padding of one spatial axis: before/after. Negative means "crop that many". */
export interface AxisPads {
  readonly before: number;
  readonly after: number;
}

/** An NHWC Conv2D or DepthwiseConv2dNative with explicit, non-negative pads on H and W. */
export function convolve(
  scope: KernelScope,
  kernel: 'Conv2D' | 'DepthwiseConv2dNative',
  x: Info,
  filter: Info,
  strides: Pair,
  dilations: Pair,
  pads: [AxisPads, AxisPads],
): Info {
  return scope.run(kernel, { x, filter }, convAttrs(strides, dilations, pads));
}

/**
 * Pads or crops the H and W axes of an NHWC tensor: positive amounts are left for the convolution
 * to pad (returned), negative amounts are cropped here with one Slice. Returns null when the crop
 * leaves nothing (every output then reads padding only, so the gradient is all zeros).
 */
export function cropNegative(
  scope: KernelScope,
  x: Info,
  pads: [AxisPads, AxisPads],
): { x: Info; pads: [AxisPads, AxisPads] } | null {
  const [h, w] = pads;
  const cut = (p: AxisPads): [number, number] => [Math.max(0, -p.before), Math.max(0, -p.after)];
  const [hb, ha] = cut(h);
  const [wb, wa] = cut(w);
  const [n, height, width, c] = x.shape;
  if (height - hb - ha <= 0 || width - wb - wa <= 0) return null;
  const cropped = scope.slice(x, [0, hb, wb, 0], [n, height - hb - ha, width - wb - wa, c]);
  const keep = (p: AxisPads): AxisPads => ({ before: Math.max(0, p.before), after: Math.max(0, p.after) });
  return { x: cropped, pads: [keep(h), keep(w)] };
}

/**
 * Inserts stride−1 zeros after every row and column of an NHWC tensor (the transposed-convolution
 * upsampling), by reshape → pad → reshape. The result is [N, H·sh, W·sw, C]: the real data ends at
 * row (H−1)·sh, the last sh−1 rows (and sw−1 columns) are zeros the caller may crop or keep.
 */
export function zeroDilate(scope: KernelScope, x: Info, [sh, sw]: Pair): Info {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = scope.reshape(x, [n * h, 1, w, 1, c]);
  const padded = scope.pad(spread, [
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return scope.reshape(padded, [n, h * sh, w * sw, c]);
}

function convAttrs(strides: Pair, dilations: Pair, [h, w]: [AxisPads, AxisPads]): tf.NamedAttrMap {
  const pad = [
    [0, 0],
    [h.before, h.after],
    [w.before, w.after],
    [0, 0],
  ];
  return { strides, dilations, pad, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
}

export function pair(value: number | readonly number[] | undefined, fallback = 1): Pair {
  if (value == null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  return [value[0], value[1] ?? value[0]];
}

export type { KernelArgs } from './kernel-utils.js';

export type PadAttr = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** Attributes tfjs passes every convolution-gradient kernel (each adds its filterShape or inputShape). */
export interface ConvGradientAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dilations?: number | [number, number];
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Forward-convolution geometry of a gradient kernel, always in NHWC terms. */
export interface ConvGeometry {
  /** The forward input, NHWC. */
  readonly inShape: Shape4;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strides: Pair;
  readonly dilations: Pair;
  /** Forward output size (dy's spatial size). */
  readonly outHeight: number;
  readonly outWidth: number;
  /** Forward padding before the first row / column. */
  readonly padTop: number;
  readonly padLeft: number;
}

/** 'NHWC' | 'NCHW' | undefined → is it channels-last? Throws on anything else. */
export function isChannelsLast(dataFormat: unknown, kernelName: string): boolean {
  if (dataFormat == null || dataFormat === 'NHWC' || dataFormat === 'channelsLast') return true;
  if (dataFormat === 'NCHW' || dataFormat === 'channelsFirst') return false;
  throw new Error(`trainhooks ${kernelName}: unknown dataFormat '${String(dataFormat)}'`);
}

/** NHWC ↔ NCHW permutations. */
export const TO_NHWC = [0, 2, 3, 1];
export const TO_NCHW = [0, 3, 1, 2];

/**
 * The forward convolution's geometry from a gradient kernel's attributes, using tfjs' own
 * computeConv2DInfo so same/valid/numeric/explicit pads and rounding modes mean what they mean in
 * the forward op. `inShape` is given in `dataFormat`; the result is in NHWC terms.
 */
export function convGeometry(
  kernelName: string,
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: {
    strides: number | readonly number[];
    pad: PadAttr;
    dilations?: number | readonly number[];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    channelsLast?: boolean;
    depthwise?: boolean;
  },
): ConvGeometry {
  const strides = pair(attrs.strides);
  const dilations = pair(attrs.dilations);
  if (strides.some((s) => !(s >= 1)) || dilations.some((d) => !(d >= 1))) {
    throw new Error(`trainhooks ${kernelName}: strides (${strides}) and dilations (${dilations}) must be ≥ 1`);
  }
  if (strides.some((s) => s > 1) && dilations.some((d) => d > 1)) {
    throw new Error(
      `trainhooks ${kernelName}: strides > 1 together with dilations > 1 are not supported ` +
        `(got strides ${strides}, dilations ${dilations}; tfjs forbids this combination as well)`,
    );
  }
  const channelsLast = attrs.channelsLast ?? true;
  const info = tf.backend_util.computeConv2DInfo(
    [...inShape] as Shape4,
    [...filterShape] as Shape4,
    strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    attrs.depthwise ?? false,
    channelsLast ? 'channelsLast' : 'channelsFirst',
  );
  const nhwc: Shape4 = channelsLast
    ? ([...inShape] as Shape4)
    : [inShape[0], inShape[2], inShape[3], inShape[1]];
  return {
    inShape: nhwc,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strides,
    dilations,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Weight gradient as a forward convolution, per spatial axis. The transposed problem convolves the
 * (batch↔channel transposed) input with dy as the filter: stride = forward dilation, dilation =
 * forward stride, pad before = forward pad before, pad after chosen so exactly `filterSize` outputs
 * come out. Where that pad after would be negative (input rows the forward never read), it is 0 and
 * the convolution yields a few more outputs, which the caller crops from the end.
 */
export function filterGradAxis(
  inSize: number,
  filterSize: number,
  stride: number,
  dilation: number,
  outSize: number,
  padBefore: number,
): { pads: AxisPads } {
  const dyExtent = (outSize - 1) * stride + 1;
  const after = (filterSize - 1) * dilation + dyExtent - inSize - padBefore;
  return { pads: { before: padBefore, after: Math.max(0, after) } };
}

/**
 * Input gradient as a forward convolution, per spatial axis: dy, zero-dilated by the stride to
 * `dilatedSize` rows (data at multiples of the stride), convolved with the 180°-rotated filter at
 * stride 1 and the forward dilation. Returns the pads (negative = crop) that make the output exactly
 * `inSize` long.
 */
export function inputGradAxis(
  inSize: number,
  filterSize: number,
  dilation: number,
  padBefore: number,
  dilatedSize: number,
): AxisPads {
  const effective = (filterSize - 1) * dilation + 1;
  const before = effective - 1 - padBefore;
  const after = inSize + effective - 1 - before - dilatedSize;
  return { before, after };
}
