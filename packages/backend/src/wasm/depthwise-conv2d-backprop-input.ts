// DepthwiseConv2dNativeBackpropInput for wasm (stock tfjs-wasm has none). Like Conv2DBackpropInput:
// dy, zero-dilated by the stride, convolved at stride 1 with the 180°-rotated filter. Each of dy's
// C·M channels has its own filter tap ([KH, KW, C·M, 1]); with a channel multiplier M > 1 the M
// results of a channel are then summed.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';
import {
  convGeometry,
  cropNegative,
  convolve,
  inputGradAxis,
  zeroDilate,
  type KernelArgs,
  type ConvGradientAttrs,
} from './conv-utils.js';

const KERNEL = 'DepthwiseConv2dNativeBackpropInput';

interface Attrs extends ConvGradientAttrs {
  inputShape: [number, number, number, number];
}

function depthwiseConv2dBackpropInput({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dilations, dimRoundingMode, inputShape } = attrs as unknown as Attrs;
  const g = convGeometry(KERNEL, inputShape, filter.shape, { strides, pad, dilations, dimRoundingMode, depthwise: true });
  const [kh, kw, c, m] = filter.shape;
  const [n, h, w] = g.inShape;
  if (dy.shape[1] !== g.outHeight || dy.shape[2] !== g.outWidth || dy.shape[3] !== c * m || inputShape[3] !== c) {
    throw new Error(`trainhooks ${KERNEL}: dy ${dy.shape}, filter ${filter.shape} and inputShape ${inputShape} do not match`);
  }

  return runScoped(backend, 'wasm', (scope) => {
    const dilated = zeroDilate(scope, dy, g.strides);
    const rows = inputGradAxis(h, kh, g.dilations[0], g.padTop, dilated.shape[1]);
    const cols = inputGradAxis(w, kw, g.dilations[1], g.padLeft, dilated.shape[2]);
    const cropped = cropNegative(scope, dilated, [rows, cols]);
    if (!cropped) return scope.zeros([n, h, w, c]);
    const rotated = scope.reshape(scope.reverse(filter, [0, 1]), [kh, kw, c * m, 1]);
    const perTap = convolve(scope, 'DepthwiseConv2dNative', cropped.x, rotated, [1, 1], g.dilations, cropped.pads);
    return scope.reshape(scope.sum(scope.reshape(perTap, [n * h * w * c, m]), [1]), [n, h, w, c]);
  });
}

export const depthwiseConv2dBackpropInputConfig: KernelOverride = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropInput as tf.KernelFunc,
};
