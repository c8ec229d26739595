// DepthwiseConv2dNativeBackpropFilter for wasm (stock tfjs-wasm has none). Per channel c and
// multiplier m the weight gradient is a correlation of x[…, c] with dy[…, c·M + m] summed over batch
// and output positions. One DepthwiseConv2dNative computes it for every (n, c) pair at once: x as a
// single image [1, H, W, N·C], dy as a [OH, OW, N·C, M] filter, stride = forward dilation, dilation =
// forward stride. A Sum over n then leaves [KH, KW, C, M].
import * as tf from '@tensorflow/tfjs-core';
import type { KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';
import { convGeometry, convolve, filterGradAxis, type KernelArgs, type ConvGradientAttrs } from './conv-utils.js';

const KERNEL = 'DepthwiseConv2dNativeBackpropFilter';

interface Attrs extends ConvGradientAttrs {
  filterShape: [number, number, number, number];
}

function depthwiseConv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dilations, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
  const g = convGeometry(KERNEL, x.shape, filterShape, { strides, pad, dilations, dimRoundingMode, depthwise: true });
  const [kh, kw, c, m] = filterShape;
  const [n, h, w] = g.inShape;
  const [oh, ow] = [g.outHeight, g.outWidth];
  if (dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== c * m || x.shape[3] !== c) {
    throw new Error(`trainhooks ${KERNEL}: x ${x.shape}, dy ${dy.shape} and filter ${filterShape} do not match`);
  }

  return runScoped(backend, 'wasm', (scope) => {
    // x → [1, H, W, N·C]; dy → [OH, OW, N·C, M]. Channels ordered (n, c) so both transposes move
    // whole C-long rows (cheap), not single elements.
    const image = scope.reshape(scope.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
    const dyFilter = scope.reshape(scope.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, m]);
    const rows = filterGradAxis(h, kh, g.strides[0], g.dilations[0], oh, g.padTop);
    const cols = filterGradAxis(w, kw, g.strides[1], g.dilations[1], ow, g.padLeft);
    // stride = forward dilation, dilation = forward stride.
    const full = convolve(scope, 'DepthwiseConv2dNative', image, dyFilter, g.dilations, g.strides, [rows.pads, cols.pads]);
    const grad = scope.slice(full, [0, 0, 0, 0], [1, kh, kw, n * c * m]);
    return scope.reshape(scope.sum(scope.reshape(grad, [kh * kw, n, c * m]), [1]), [kh, kw, c, m]);
  });
}

export const depthwiseConv2dBackpropFilterConfig: KernelOverride = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropFilter as tf.KernelFunc,
};
