// wasm UnsortedSegmentSum, which stock tfjs-backend-wasm lacks (it is the gradient of GatherV2, so of
// every embedding lookup).
//
// The usual case, one id per row of x, is one ScatterNd (which adds rows with the same index). ScatterNd
// does not check bounds, so ids outside [0, numSegments) — which tfjs-cpu drops — are first redirected
// by Select to an extra row numSegments that is cut off afterwards. Other id shapes follow tfjs-cpu's
// broadcasting definition (see maskedSums), one masked sum per segment, with kernels.
import * as tf from '@tensorflow/tfjs-core';
import { UnsortedSegmentSum, util } from '@tensorflow/tfjs-core';
import type { KernelOverride } from '../kernel-registry.js';
import { runScoped, type KernelScope } from '../kernel-scope.js';
import type { KernelArgs } from './kernel-utils.js';

const WASM = 'wasm';

function fill(scope: KernelScope, shape: number[], value: number, dtype: tf.DataType): tf.TensorInfo {
  return scope.run('Fill', {}, { shape, value, dtype });
}

/** One id per row of x: a bounds-safe ScatterNd. */
function scatterRows(scope: KernelScope, x: tf.TensorInfo, ids: tf.TensorInfo, numSegments: number): tf.TensorInfo {
  const rows = x.shape[0];
  const rest = x.shape.slice(1);
  return scope.scoped((s) => {
    const safeIds = s.scoped((check) => {
      const zero = fill(check, [], 0, 'int32');
      const limit = fill(check, [], numSegments, 'int32');
      const trash = fill(check, [rows], numSegments, 'int32');
      const atLeastZero = check.run('GreaterEqual', { a: ids, b: zero });
      const belowLimit = check.run('Less', { a: ids, b: limit });
      const valid = check.run('LogicalAnd', { a: atLeastZero, b: belowLimit });
      return check.run('Select', { condition: valid, t: ids, e: trash });
    });
    const indices = s.run('Reshape', { x: safeIds }, { shape: [rows, 1] });
    const withTrash = s.run('ScatterNd', { indices, updates: x }, { shape: [numSegments + 1, ...rest] });
    return s.run('Slice', { x: withTrash }, { begin: new Array<number>(x.shape.length).fill(0), size: [numSegments, ...rest] });
  });
}

/**
 * Other ids shapes, as tfjs-cpu defines them: ids get (rank x − rank ids) unit dims inserted after their
 * first dim, are broadcast against x, and each segment s is the sum over axis 0 of x masked by ids == s.
 */
function maskedSums(scope: KernelScope, x: tf.TensorInfo, ids: tf.TensorInfo, numSegments: number): tf.TensorInfo {
  const unitDims = new Array<number>(Math.max(0, x.shape.length - ids.shape.length)).fill(1);
  const expandedShape = [ids.shape[0], ...unitDims, ...ids.shape.slice(1)];
  return scope.scoped((s) => {
    const expanded = s.run('Reshape', { x: ids }, { shape: expandedShape });
    const sums: tf.TensorInfo[] = [];
    for (let segment = 0; segment < numSegments; segment++) {
      // One scope per segment: its mask and masked copy of x are freed before the next.
      sums.push(
        s.scoped((step) => {
          const mask = step.run('Equal', { a: expanded, b: fill(step, [], segment, 'int32') });
          const weights = step.run('Cast', { x: mask }, { dtype: x.dtype });
          const masked = step.run('Multiply', { a: weights, b: x });
          return step.run('Sum', { x: masked }, { axis: 0, keepDims: false });
        }),
      );
    }
    return s.run('Pack', sums as unknown as tf.NamedTensorInfoMap, { axis: 0 });
  });
}

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as { numSegments: number };
  util.assert(x.shape.length >= 1, () => 'UnsortedSegmentSum: x must have rank >= 1');
  return runScoped(backend, WASM, (scope) => {
    const ids = segmentIds.dtype === 'int32' ? segmentIds : scope.run('Cast', { x: segmentIds }, { dtype: 'int32' });
    const oneIdPerRow = ids.shape.length === 1 && ids.shape[0] === x.shape[0];
    if (oneIdPerRow) {
      if (util.sizeFromShape(x.shape) === 0 || numSegments === 0) {
        return fill(scope, [numSegments, ...x.shape.slice(1)], 0, x.dtype);
      }
      return scatterRows(scope, x, ids, numSegments);
    }
    return maskedSums(scope, x, ids, numSegments);
  });
}

export const wasmUnsortedSegmentSumKernel: KernelOverride = {
  kernelName: UnsortedSegmentSum,
  backendName: WASM,
  kernelFunc: unsortedSegmentSum as tf.KernelFunc,
};
