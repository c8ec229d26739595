// Conv2DBackpropInput for wasm, replacing tfjs-wasm's naive loop. The input gradient is a forward
// convolution of dy with the filter rotated 180° and its channels swapped ([KH, KW, Co, Ci]):
//  - stride 1: dy convolved directly, pads chosen so the output is exactly the input's shape (where a
//    pad would be negative, dy is cropped instead);
//  - stride s > 1: rather than zero-dilating dy (s² times the work, mostly multiplying zeros), the
//    polyphase form: input row i = q·s + r − padTop only sees filter taps k ≡ r (mod s), so each of
//    the s_h·s_w phases is a stride-1 convolution of the undilated dy with a sub-filter. All phases
//    run as ONE Conv2D whose output channels are [s_h, s_w, Ci]; a reshape/transpose interleaves them
//    into rows and columns ("depth to space") and a slice trims the ends;
//  - one input channel (stride 1): a depthwise convolution per dy channel and a Sum (see `direct`).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelOverride } from '../kernel-registry.js';
import { runScoped, type KernelScope } from '../kernel-scope.js';
import {
  TO_NCHW,
  TO_NHWC,
  convGeometry,
  cropNegative,
  convolve,
  inputGradAxis,
  isChannelsLast,
  type AxisPads,
  type ConvGeometry,
  type KernelArgs,
  type ConvGradientAttrs,
} from './conv-utils.js';

const KERNEL = 'Conv2DBackpropInput';

interface Attrs extends ConvGradientAttrs {
  inputShape: [number, number, number, number];
}

function conv2dBackpropInput({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Attrs;
  const channelsLast = isChannelsLast(dataFormat, KERNEL);
  const g = convGeometry(KERNEL, inputShape, filter.shape, { strides, pad, dimRoundingMode, channelsLast });

  return runScoped(backend, 'wasm', (scope) => {
    const dyNhwc = channelsLast ? dy : scope.transpose(dy, TO_NHWC);
    if (dyNhwc.shape[1] !== g.outHeight || dyNhwc.shape[2] !== g.outWidth || dyNhwc.shape[3] !== filter.shape[3]) {
      throw new Error(`trainhooks ${KERNEL}: dy shape ${dy.shape} does not match the forward output`);
    }
    const strided = g.strides[0] > 1 || g.strides[1] > 1;
    const dx = strided ? polyphase(scope, dyNhwc, filter, g) : direct(scope, dyNhwc, filter, g);
    return channelsLast ? dx : scope.transpose(dx, TO_NCHW);
  });
}

/** Stride 1 (any dilation): one convolution with the rotated filter. */
function direct(scope: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const [n, h, w, ci] = g.inShape;
  const rows = inputGradAxis(h, g.filterHeight, g.dilations[0], g.padTop, dy.shape[1]);
  const cols = inputGradAxis(w, g.filterWidth, g.dilations[1], g.padLeft, dy.shape[2]);
  const cropped = cropNegative(scope, dy, [rows, cols]);
  if (!cropped) return scope.zeros([n, h, w, ci]);
  if (ci === 1) {
    // One input channel: a convolution with a single output channel wastes most of XNNPACK's
    // output tile. A depthwise convolution per dy channel (its fast path) and a Sum over the
    // channels compute the same.
    const [kh, kw, , co] = filter.shape;
    const rotated = scope.reshape(scope.reverse(filter, [0, 1]), [kh, kw, co, 1]);
    const perChannel = convolve(scope, 'DepthwiseConv2dNative', cropped.x, rotated, [1, 1], g.dilations, cropped.pads);
    return scope.reshape(scope.sum(perChannel, [3]), [n, h, w, 1]);
  }
  const rotated = scope.transpose(scope.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  return convolve(scope, 'Conv2D', cropped.x, rotated, [1, 1], g.dilations, cropped.pads);
}

/** Per spatial axis: which phase rows the polyphase convolution must produce. */
function phaseAxis(inSize: number, filterSize: number, stride: number, padBefore: number, outSize: number) {
  const taps = Math.ceil(filterSize / stride); // J: taps of the longest sub-filter
  const first = Math.floor(padBefore / stride); // q0: first block that holds an input row
  const last = Math.floor((inSize - 1 + padBefore) / stride); // q1
  const blocks = last - first + 1; // Q
  const before = taps - 1 - first;
  const pads: AxisPads = { before, after: blocks + taps - 1 - before - outSize };
  return { taps, blocks, pads, offset: padBefore - first * stride };
}

/** Stride > 1 (dilation 1): all s_h·s_w phases in one Conv2D, then interleaved. */
function polyphase(scope: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const [n, h, w, ci] = g.inShape;
  const [kh, kw, , co] = filter.shape;
  const [sh, sw] = g.strides;
  const rows = phaseAxis(h, kh, sh, g.padTop, g.outHeight);
  const cols = phaseAxis(w, kw, sw, g.padLeft, g.outWidth);
  const [jh, jw] = [rows.taps, cols.taps];

  // Sub-filters: phase r, tap j' (of J) holds filter tap r + (J−1−j')·s (zero past the end). Pad the
  // kernel axes to J·s, split them into [J, s], bring the layout to [Jh, Jw, Co, sh, sw, Ci] and
  // reverse the tap axes.
  const padded = scope.pad(filter, [
    [0, jh * sh - kh],
    [0, jw * sw - kw],
    [0, 0],
    [0, 0],
  ]);
  const split = scope.reshape(padded, [jh, sh, jw, sw, ci, co]);
  const arranged = scope.transpose(split, [0, 2, 5, 1, 3, 4]);
  const phases = scope.reverse(scope.reshape(arranged, [jh, jw, co, sh * sw * ci]), [0, 1]);

  const cropped = cropNegative(scope, dy, [rows.pads, cols.pads]);
  if (!cropped) return scope.zeros([n, h, w, ci]);
  const blocks = convolve(scope, 'Conv2D', cropped.x, phases, [1, 1], [1, 1], cropped.pads); // [N, Qh, Qw, sh·sw·Ci]
  // Depth to space: [N·Qh, Qw, sh, sw·Ci] → [N·Qh, sh, Qw, sw·Ci] = [N, Qh·sh, Qw·sw, Ci].
  const spread = scope.transpose(scope.reshape(blocks, [n * rows.blocks, cols.blocks, sh, sw * ci]), [0, 2, 1, 3]);
  const full = scope.reshape(spread, [n, rows.blocks * sh, cols.blocks * sw, ci]);
  return scope.slice(full, [0, rows.offset, cols.offset, 0], [n, h, w, ci]);
}

export const conv2dBackpropInputConfig: KernelOverride = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as tf.KernelFunc,
};
