// cpu Conv2DBackpropFilter as im2col + the cpu backend's own matmul.
//
// Stock tfjs-cpu walks filter × batch × output positions with a TensorBuffer.get per multiply-add (~80x
// its forward conv: 25 s for x 64×13×13×32, 3×3×32×64). The weight gradient is one matmul:
//   dW[(kh, kw, ci), co] = Σ_(b, oy, ox) x[b, oy·sh + kh − padTop, ox·sw + kw − padLeft, ci] · dy[b, oy, ox, co]
// We lay out the patches transposed, Pᵀ = [(kh, kw, ci), (b, oy, ox)], with typed-array loops (zeros where
// the window hangs over the padding), and dyᵀ = [co, (b, oy, ox)], so that the cpu BatchMatMul
// (transposeB) walks both operands contiguously in its inner loop. Large inputs are cut into batch chunks
// whose partial gradients are added.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2DBackpropFilter, util } from '@tensorflow/tfjs-core';
import type { KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';

const CPU = 'cpu';

/** Tuning knobs (tests lower the bound to exercise the batch chunks). */
export const CPU_BACKPROP_FILTER_OPTIONS = {
  /** Upper bound on the elements of one chunk's patch matrix (64 MiB of float32). */
  maxPatchElements: 1 << 24,
};

/** What we use of tfjs-cpu's backend: its tensor store. */
interface CpuStore {
  data: { get(dataId: tf.DataId): { values?: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * Pᵀ for images [b0, b1): row (kh·KW + kw)·CI + ci, column ((b − b0)·OH + oy)·OW + ox.
 */
function transposedPatches(
  xValues: ArrayLike<number>,
  info: backend_util.Conv2DInfo,
  b0: number,
  b1: number,
): Float32Array {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const cols = (b1 - b0) * outHeight * outWidth;
  const patches = new Float32Array(filterHeight * filterWidth * inChannels * cols);
  const xRowStride = inWidth * inChannels;
  const xImageStride = inHeight * xRowStride;
  const colStep = strideWidth * inChannels;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      // Output columns whose input column ox·sw + kw − padLeft lies inside the image.
      const oxMin = Math.max(0, Math.ceil((padLeft - kw) / strideWidth));
      const oxMax = Math.min(outWidth, Math.floor((inWidth - 1 + padLeft - kw) / strideWidth) + 1);
      for (let ci = 0; ci < inChannels; ci++) {
        const rowBase = ((kh * filterWidth + kw) * inChannels + ci) * cols;
        for (let b = b0; b < b1; b++) {
          for (let oy = 0; oy < outHeight; oy++) {
            const iy = oy * strideHeight + kh - padTop;
            if (iy < 0 || iy >= inHeight || oxMin >= oxMax) continue; // stays zero
            const out = rowBase + ((b - b0) * outHeight + oy) * outWidth;
            let src = b * xImageStride + iy * xRowStride + (oxMin * strideWidth + kw - padLeft) * inChannels + ci;
            for (let ox = oxMin; ox < oxMax; ox++, src += colStep) patches[out + ox] = xValues[src];
          }
        }
      }
    }
  }
  return patches;
}

/** What tfjs passes a kernel function, with the backend typed (tfjs types it as `{}`). */
interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x: xIn, dy: dyIn } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat = 'NHWC', dimRoundingMode, filterShape } = attrs as unknown as BackpropFilterAttrs;
  const store = backend as unknown as CpuStore;
  const channelsFirst = dataFormat === 'NCHW';
  return runScoped(backend, CPU, (scope) => {
    // NCHW: work in NHWC (the layout the patch loops assume).
    const x = channelsFirst ? scope.run('Transpose', { x: xIn }, { perm: [0, 2, 3, 1] }) : xIn;
    const dy = channelsFirst ? scope.run('Transpose', { x: dyIn }, { perm: [0, 2, 3, 1] }) : dyIn;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const { batchSize, outHeight, outWidth, outChannels, filterHeight, filterWidth, inChannels } = info;
    const patchRows = filterHeight * filterWidth * inChannels;
    const perImage = outHeight * outWidth;
    if (patchRows * perImage * batchSize === 0 || outChannels === 0) {
      return scope.adopt(store.makeTensorInfo(filterShape, 'float32', new Float32Array(util.sizeFromShape(filterShape))));
    }
    util.assert(
      util.arraysEqual(dy.shape, [batchSize, outHeight, outWidth, outChannels]),
      () => `Conv2DBackpropFilter: dy shape ${dy.shape} does not match the convolution's output ${info.outShape}`,
    );
    const xValues = store.data.get(x.dataId).values;
    if (!xValues) throw new Error('Conv2DBackpropFilter: x has no values on the cpu backend');

    // dyᵀ = [co, (b, oy, ox)]
    const dyT = scope.scoped((s) => {
      const dy2 = s.run('Reshape', { x: dy }, { shape: [batchSize * perImage, outChannels] });
      return s.run('Transpose', { x: dy2 }, { perm: [1, 0] });
    });

    const imagesPerChunk = Math.floor(CPU_BACKPROP_FILTER_OPTIONS.maxPatchElements / (patchRows * perImage));
    const chunk = Math.max(1, Math.min(batchSize, imagesPerChunk));
    let total: tf.TensorInfo | undefined;
    for (let b0 = 0; b0 < batchSize; b0 += chunk) {
      const b1 = Math.min(batchSize, b0 + chunk);
      const cols = (b1 - b0) * perImage;
      // The chunk's patches (up to maxPatchElements) and slice of dy are freed once its part is made.
      const part = scope.scoped((s) => {
        const patches = s.adopt(store.makeTensorInfo([1, patchRows, cols], 'float32', transposedPatches(xValues, info, b0, b1)));
        let dyPart: tf.TensorInfo;
        if (b0 === 0 && b1 === batchSize) {
          dyPart = s.run('Reshape', { x: dyT }, { shape: [1, outChannels, cols] });
        } else {
          const sliced = s.run('Slice', { x: dyT }, { begin: [0, b0 * perImage], size: [outChannels, cols] });
          dyPart = s.run('Reshape', { x: sliced }, { shape: [1, outChannels, cols] });
        }
        return s.run('BatchMatMul', { a: patches, b: dyPart }, { transposeA: false, transposeB: true });
      });
      // The running total and the part are freed as soon as their sum is made.
      const previous = total;
      total = previous ? scope.scoped((s) => s.run('Add', { a: s.take(previous), b: s.take(part) })) : part;
    }
    return scope.run('Reshape', { x: total! }, { shape: [...filterShape] });
  });
}

export const cpuConv2DBackpropFilterKernel: KernelOverride = {
  kernelName: Conv2DBackpropFilter,
  backendName: CPU,
  kernelFunc: conv2DBackpropFilter as tf.KernelFunc,
};
