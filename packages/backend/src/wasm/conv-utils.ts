// Shared pieces of the wasm convolution-gradient kernels: a scope that frees intermediates, thin
// wrappers over the backend's own kernels, and the geometry that turns a gradient into a forward
// convolution. Everything here composes the backend's kernels; nothing loops over tensor data.
import * as tf from '@tensorflow/tfjs-core';
import { callKernel } from '../kernel-registry.js';

type Info = tf.TensorInfo;
type Shape4 = [number, number, number, number];
type Pair = [number, number];

/** Padding of one spatial axis: before/after. Negative means "crop that many". */
export interface AxisPads {
  readonly before: number;
  readonly after: number;
}

/**
 * The intermediates of one kernel call. Every kernel run through it is remembered and freed by
 * `dispose` (what `runScoped` calls on the way out, like a `using` block), except the result.
 * Shortcuts return their input unchanged when the op would be a no-op, so no copy is made.
 */
export class KernelScope {
  private readonly owned: Info[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string = 'wasm',
  ) {}

  /** Runs a kernel of this backend and takes ownership of its output. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
    const out = callKernel(kernelName, this.backend, this.backendName, inputs, attrs);
    this.owned.push(out);
    return out;
  }

  owns(info: Info): boolean {
    return this.owned.includes(info);
  }

  /** Frees every intermediate except `keep` (by identity: a reshape shares its data but holds its own reference). */
  dispose(keep?: Info): void {
    for (const info of this.owned) if (info !== keep) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }

  reshape(x: Info, shape: number[]): Info {
    if (sameShape(x.shape, shape)) return x;
    return this.run('Reshape', { x }, { shape });
  }

  /**
   * Transpose that first drops size-1 axes and merges axes that stay neighbours, so the backend's
   * kernel sees the lowest rank possible (tfjs-wasm has fast paths up to rank 4 only; above it
   * walks element by element through index vectors). A permutation that only moves size-1 axes is
   * a free reshape.
   */
  transpose(x: Info, perm: number[]): Info {
    const outShape = perm.map((axis) => x.shape[axis]);
    const { shape, perm: reduced } = reducePermutation(x.shape, perm);
    if (reduced.every((axis, i) => axis === i)) return this.reshape(x, outShape);
    const moved = this.run('Transpose', { x: this.reshape(x, shape) }, { perm: reduced });
    return this.reshape(moved, outShape);
  }

  /** Zero padding; `paddings` has one [before, after] per axis, all ≥ 0. */
  pad(x: Info, paddings: Pair[]): Info {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: Info, begin: number[], size: number[]): Info {
    if (begin.every((b) => b === 0) && sameShape(x.shape, size)) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /**
   * Reverses axes `dims`. Reversing consecutive axes together is reversing their flattened index,
   * which is a horizontal image flip of a [outer, 1, run, inner] view: FlipLeftRight copies whole
   * pixels, ~50× faster than tfjs-wasm's element-wise Reverse (which this falls back to for
   * non-float32 tensors).
   */
  reverse(x: Info, dims: number[]): Info {
    const axes = [...new Set(dims.filter((axis) => x.shape[axis] > 1))].sort((a, b) => a - b);
    if (axes.length === 0) return x;
    if (x.dtype !== 'float32') return this.run('Reverse', { x }, { dims: axes });
    let result = x;
    for (let i = 0; i < axes.length; ) {
      let j = i;
      while (j + 1 < axes.length && (axes[j + 1] === axes[j] + 1 || sizeOf(x.shape.slice(axes[j] + 1, axes[j + 1])) === 1)) j++;
      const [first, last] = [axes[i], axes[j]];
      const image = this.reshape(result, [
        sizeOf(x.shape.slice(0, first)),
        1,
        sizeOf(x.shape.slice(first, last + 1)),
        sizeOf(x.shape.slice(last + 1)),
      ]);
      result = this.reshape(this.run('FlipLeftRight', { image }), x.shape);
      i = j + 1;
    }
    return result;
  }

  sum(x: Info, axis: number[]): Info {
    if (axis.every((a) => x.shape[a] === 1)) {
      return this.reshape(x, x.shape.filter((_, i) => !axis.includes(i)));
    }
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /** NHWC Conv2D with explicit, non-negative pads on H and W. */
  conv2d(x: Info, filter: Info, strides: Pair, dilations: Pair, pads: [AxisPads, AxisPads]): Info {
    return this.run('Conv2D', { x, filter }, convAttrs(strides, dilations, pads));
  }

  /** NHWC DepthwiseConv2dNative with explicit, non-negative pads on H and W. */
  depthwiseConv2d(x: Info, filter: Info, strides: Pair, dilations: Pair, pads: [AxisPads, AxisPads]): Info {
    return this.run('DepthwiseConv2dNative', { x, filter }, convAttrs(strides, dilations, pads));
  }

  /**
   * Pads or crops the H and W axes of an NHWC tensor: positive amounts are left for the convolution
   * to pad (returned), negative amounts are cropped here with one Slice. Returns null when the crop
   * leaves nothing (every output then reads padding only, so the gradient is all zeros).
   */
  cropNegative(x: Info, pads: [AxisPads, AxisPads]): { x: Info; pads: [AxisPads, AxisPads] } | null {
    const [h, w] = pads;
    const cut = (p: AxisPads): [number, number] => [Math.max(0, -p.before), Math.max(0, -p.after)];
    const [hb, ha] = cut(h);
    const [wb, wa] = cut(w);
    const [n, height, width, c] = x.shape;
    if (height - hb - ha <= 0 || width - wb - wa <= 0) return null;
    const cropped = this.slice(x, [0, hb, wb, 0], [n, height - hb - ha, width - wb - wa, c]);
    const keep = (p: AxisPads): AxisPads => ({ before: Math.max(0, p.before), after: Math.max(0, p.after) });
    return { x: cropped, pads: [keep(h), keep(w)] };
  }

  zeros(shape: number[]): Info {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /**
   * Inserts stride−1 zeros after every row and column of an NHWC tensor (the transposed-convolution
   * upsampling), by reshape → pad → reshape. The result is [N, H·sh, W·sw, C]: the real data ends at
   * row (H−1)·sh, the last sh−1 rows (and sw−1 columns) are zeros the caller may crop or keep.
   */
  zeroDilate(x: Info, [sh, sw]: Pair): Info {
    if (sh === 1 && sw === 1) return x;
    const [n, h, w, c] = x.shape;
    const spread = this.reshape(x, [n * h, 1, w, 1, c]);
    const padded = this.pad(spread, [
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    return this.reshape(padded, [n, h * sh, w * sw, c]);
  }
}

/**
 * Runs `body` with a fresh scope and frees its intermediates whatever happens. The result always
 * holds its own reference: if `body` returns one of the kernel's inputs (or a shortcut of one), it is
 * re-referenced through a Reshape so the engine never shares a data id it does not know about.
 */
export function runScoped(backend: tf.KernelBackend, body: (scope: KernelScope) => Info, backendName = 'wasm'): Info {
  const scope = new KernelScope(backend, backendName);
  let result: Info | undefined;
  try {
    result = body(scope);
    if (!scope.owns(result)) {
      result = callKernel('Reshape', backend, backendName, { x: result }, { shape: result.shape });
    }
    return result;
  } finally {
    scope.dispose(result);
  }
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

/**
 * Drops size-1 axes and merges runs of axes that are consecutive in both the input and the output,
 * e.g. [N, H, W, C] with perm [1, 2, 0, 3] becomes [N, H·W, C] with perm [1, 0, 2].
 */
export function reducePermutation(inShape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((axis) => inShape[axis] !== 1);
  // Runs of input axes that appear consecutively (and in order) in the output.
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + nextKept(inShape, last[last.length - 1]) === axis) last.push(axis);
    else groups.push([axis]);
  }
  // Order the groups by their position in the input to get the merged input shape.
  const byInput = [...groups].sort((a, b) => a[0] - b[0]);
  const shape = byInput.map((group) => group.reduce((size, axis) => size * inShape[axis], 1));
  const reduced = groups.map((group) => byInput.indexOf(group));
  return { shape, perm: reduced };
}

/** Distance from `axis` to the next input axis that is not of size 1. */
function nextKept(inShape: readonly number[], axis: number): number {
  let step = 1;
  while (axis + step < inShape.length && inShape[axis + step] === 1) step++;
  return step;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
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
