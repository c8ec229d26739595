// wasm UnsortedSegmentSum, which stock tfjs-backend-wasm lacks (it is the gradient of GatherV2, so of
// every embedding lookup).
//
// The usual case, one id per row of x, is one ScatterNd (which adds rows with the same index). ScatterNd
// does not check bounds, so ids outside [0, numSegments) — which tfjs-cpu drops — are first redirected
// by Select to an extra row numSegments that is cut off afterwards. Other id shapes follow tfjs-cpu's
// broadcasting definition (see maskedSums), one masked sum per segment, with kernels.
import * as tf from '@tensorflow/tfjs-core';
import { UnsortedSegmentSum, util } from '@tensorflow/tfjs-core';
import { callKernel, type KernelOverride } from '../kernel-registry.js';
import { disposeAll as dispose, type KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

function fill(backend: tf.KernelBackend, shape: number[], value: number, dtype: tf.DataType): tf.TensorInfo {
  return callKernel('Fill', backend, WASM, {}, { shape, value, dtype });
}

/** One id per row of x: a bounds-safe ScatterNd. */
function scatterRows(backend: tf.KernelBackend, x: tf.TensorInfo, ids: tf.TensorInfo, numSegments: number): tf.TensorInfo {
  const rows = x.shape[0];
  const rest = x.shape.slice(1);
  const zero = fill(backend, [], 0, 'int32');
  const limit = fill(backend, [], numSegments, 'int32');
  const trash = fill(backend, [rows], numSegments, 'int32');
  const atLeastZero = callKernel('GreaterEqual', backend, WASM, { a: ids, b: zero });
  const belowLimit = callKernel('Less', backend, WASM, { a: ids, b: limit });
  const valid = callKernel('LogicalAnd', backend, WASM, { a: atLeastZero, b: belowLimit });
  const safeIds = callKernel('Select', backend, WASM, { condition: valid, t: ids, e: trash });
  dispose(backend, zero, limit, trash, atLeastZero, belowLimit, valid);
  const indices = callKernel('Reshape', backend, WASM, { x: safeIds }, { shape: [rows, 1] });
  dispose(backend, safeIds);
  const withTrash = callKernel('ScatterNd', backend, WASM, { indices, updates: x }, { shape: [numSegments + 1, ...rest] });
  dispose(backend, indices);
  const out = callKernel(
    'Slice',
    backend,
    WASM,
    { x: withTrash },
    { begin: new Array<number>(x.shape.length).fill(0), size: [numSegments, ...rest] },
  );
  dispose(backend, withTrash);
  return out;
}

/**
 * Other ids shapes, as tfjs-cpu defines them: ids get (rank x − rank ids) unit dims inserted after their
 * first dim, are broadcast against x, and each segment s is the sum over axis 0 of x masked by ids == s.
 */
function maskedSums(backend: tf.KernelBackend, x: tf.TensorInfo, ids: tf.TensorInfo, numSegments: number): tf.TensorInfo {
  const unitDims = new Array<number>(Math.max(0, x.shape.length - ids.shape.length)).fill(1);
  const expandedShape = [ids.shape[0], ...unitDims, ...ids.shape.slice(1)];
  const expanded = callKernel('Reshape', backend, WASM, { x: ids }, { shape: expandedShape });
  const sums: tf.TensorInfo[] = [];
  try {
    for (let s = 0; s < numSegments; s++) {
      const id = fill(backend, [], s, 'int32');
      const mask = callKernel('Equal', backend, WASM, { a: expanded, b: id });
      const weights = callKernel('Cast', backend, WASM, { x: mask }, { dtype: x.dtype });
      const masked = callKernel('Multiply', backend, WASM, { a: weights, b: x });
      sums.push(callKernel('Sum', backend, WASM, { x: masked }, { axis: 0, keepDims: false }));
      dispose(backend, id, mask, weights, masked);
    }
    return callKernel('Pack', backend, WASM, sums as unknown as tf.NamedTensorInfoMap, { axis: 0 });
  } finally {
    dispose(backend, expanded, ...sums);
  }
}

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as { numSegments: number };
  util.assert(x.shape.length >= 1, () => 'UnsortedSegmentSum: x must have rank >= 1');
  const ids =
    segmentIds.dtype === 'int32'
      ? callKernel('Reshape', backend, WASM, { x: segmentIds }, { shape: segmentIds.shape })
      : callKernel('Cast', backend, WASM, { x: segmentIds }, { dtype: 'int32' });
  try {
    const oneIdPerRow = ids.shape.length === 1 && ids.shape[0] === x.shape[0];
    if (oneIdPerRow) {
      if (util.sizeFromShape(x.shape) === 0 || numSegments === 0) {
        return fill(backend, [numSegments, ...x.shape.slice(1)], 0, x.dtype);
      }
      return scatterRows(backend, x, ids, numSegments);
    }
    return maskedSums(backend, x, ids, numSegments);
  } finally {
    dispose(backend, ids);
  }
}

export const wasmUnsortedSegmentSumKernel: KernelOverride = {
  kernelName: UnsortedSegmentSum,
  backendName: WASM,
  kernelFunc: unsortedSegmentSum as tf.KernelFunc,
};
