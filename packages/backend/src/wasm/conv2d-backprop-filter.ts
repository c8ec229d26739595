// Conv2DBackpropFilter for wasm (stock tfjs-wasm has none). The weight gradient
//   dW[kh, kw, ci, co] = Σ_{n, oh, ow} xPadded[n, oh·sh + kh, ow·sw + kw, ci] · dy[n, oh, ow, co]
// is itself a forward convolution of transposed operands: x as [Ci, H, W, N] (batch ↔ channels)
// convolved with dy as a [OH, OW, N, Co] filter, at stride 1 and dilation = the forward stride.
// Its output [Ci, KH, KW, Co] is transposed to [KH, KW, Ci, Co]. One XNNPACK convolution does the work
// (with one input channel, a depthwise one: see below). Measured on wasm, this beats im2col + MatMul:
// tfjs-wasm's Slice is a JS loop, and the GEMM has to pack dy either way.
// Where the kernel pool handles the case (NHWC, output channels in multiples of 8), its own SIMD loop
// runs instead: about 2× the XNNPACK route on one thread (which streams dy, packed as a huge filter,
// past every output tile), 4–5× on first layers, and split over the pool's threads by images
// (pool-filter-grad.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';
import { activeKernelPool } from '../wasm-threads/active-kernel-pool.js';
import { poolFilterGrad } from './pool-filter-grad.js';
import {
  convGeometry,
  convolve,
  filterGradAxis,
  isChannelsLast,
  type KernelArgs,
  type ConvGradientAttrs,
} from './conv-utils.js';

const KERNEL = 'Conv2DBackpropFilter';

interface Attrs extends ConvGradientAttrs {
  filterShape: [number, number, number, number];
}

function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
  const channelsLast = isChannelsLast(dataFormat, KERNEL);
  const g = convGeometry(KERNEL, x.shape, filterShape, { strides, pad, dimRoundingMode, channelsLast });
  const [kh, kw, ci, co] = filterShape;
  if (channelsLast && tf.util.arraysEqual(dy.shape, [g.inShape[0], g.outHeight, g.outWidth, co])) {
    const pooled = poolFilterGrad(activeKernelPool(), x, dy, g, filterShape, backend);
    if (pooled) return pooled;
  }

  return runScoped(backend, 'wasm', (scope) => {
    // [Ci, H, W, N] and [OH, OW, N, Co], straight from either layout.
    const xT = scope.transpose(x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    const dyT = scope.transpose(dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    if (dyT.shape[0] !== g.outHeight || dyT.shape[1] !== g.outWidth || dyT.shape[3] !== co) {
      throw new Error(`trainhooks ${KERNEL}: dy shape ${dy.shape} does not match the forward output`);
    }
    const [, h, w] = g.inShape;
    const rows = filterGradAxis(h, kh, g.strides[0], g.dilations[0], g.outHeight, g.padTop);
    const cols = filterGradAxis(w, kw, g.strides[1], g.dilations[1], g.outWidth, g.padLeft);
    // stride = forward dilation, dilation = forward stride.
    if (ci === 1) {
      // One input channel (a first layer): the same sums as a depthwise convolution over the N
      // batch images as channels, dy as a [OH, OW, N, Co] depthwise filter, then a Sum over N.
      // XNNPACK packs a depthwise filter without tfjs' scattered [K, Co] → [Co, K] pre-transpose,
      // which dominates when dy is large and the output tiny.
      const perImage = convolve(scope, 'DepthwiseConv2dNative', xT, dyT, g.dilations, g.strides, [rows.pads, cols.pads]);
      const cropped = scope.slice(perImage, [0, 0, 0, 0], [1, kh, kw, perImage.shape[3]]);
      return scope.reshape(scope.sum(scope.reshape(cropped, [kh * kw, dyT.shape[2], co]), [1]), [kh, kw, 1, co]);
    }
    const full = convolve(scope, 'Conv2D', xT, dyT, g.dilations, g.strides, [rows.pads, cols.pads]);
    const grad = scope.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]);
    return scope.transpose(grad, [1, 2, 0, 3]);
  });
}

export const conv2dBackpropFilterConfig: KernelOverride = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as tf.KernelFunc,
};
