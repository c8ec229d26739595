// wasm Tile as a broadcast.
//
// Stock wasm tiles element by element (~80 ns an element: 77 ms for the [1,1,1,16] → [64,28,28,16] tile
// in every BatchNormalization gradient). A tile is a broadcast once each tiled axis is split in two
// (reps × size, with x contributing 1 × size), so we add x, reshaped that way, to a -0 filled output
// (x + -0 is x for every float, -0 and NaN included) with the wasm Add kernel's broadcasting.
//
// The common case — x repeated whole, as in tiling [1, 1, 1, C] to [N, H, W, C] (BatchNormalization's
// gradients, broadcastTo in Mean's) — is a block copy instead: x written once into the output, then the
// written part doubled until the output is full. One write of the output, any dtype, the bits of x
// unchanged. It runs on the kernel pool (memory.copy; from 1 Mi elements the copies are split over its
// threads), or in JavaScript with copyWithin when the pool is not running (on threaded wasm's shared
// memory copyWithin is an element-safe copy, slower than memory.copy).
import * as tf from '@tensorflow/tfjs-core';
import { Tile, util } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { runScoped } from '../kernel-scope.js';
import { memoryOffset, runPoolCall, type KernelArgs, type WasmHeap, type WasmMemoryBackend } from './kernel-utils.js';
import { activeKernelPool } from '../wasm-threads/active-kernel-pool.js';
import { splitCall } from '../wasm-threads/kernel-pool.js';
import { REPEAT_FUNCTION } from '../wasm-threads/repeat-wat.js';

const WASM = 'wasm';
/** The wasm binary kernels broadcast up to this rank. */
const MAX_BROADCAST_RANK = 6;

/**
 * The broadcast that equals tile(x, reps): x reshaped to `from`, broadcast to `to`. Adjacent axes of the
 * same kind (copied or broadcast) are merged to keep the rank low.
 */
export function tileAsBroadcast(shape: number[], reps: number[]): { from: number[]; to: number[] } {
  const from: number[] = [];
  const to: number[] = [];
  let lastBroadcast: boolean | undefined;
  const push = (size: number, broadcast: boolean) => {
    if (size === 1) return;
    if (lastBroadcast === broadcast) {
      to[to.length - 1] *= size;
      if (!broadcast) from[from.length - 1] *= size;
    } else {
      to.push(size);
      from.push(broadcast ? 1 : size);
      lastBroadcast = broadcast;
    }
  };
  shape.forEach((size, i) => {
    push(reps[i], true);
    push(size, false);
  });
  return { from: from.length ? from : [1], to: to.length ? to : [1] };
}

/** True when tile(x, reps) is x repeated whole: only the broadcast axes in front of x's own are > 1. */
export function repeatsWhole(from: number[], to: number[]): boolean {
  return to.length === 1 || (to.length === 2 && from[0] === 1);
}

/** tile(x, reps) for x repeated whole: x's bytes written once, then doubled within the output. */
function repeatWhole(backend: tf.KernelBackend, x: tf.TensorInfo, outShape: number[]): tf.TensorInfo {
  const heap = backend as unknown as WasmHeap & WasmMemoryBackend;
  const out = heap.makeOutput(outShape, x.dtype);
  const pool = activeKernelPool();
  if (pool) {
    const block = util.sizeFromShape(x.shape);
    const copies = util.sizeFromShape(outShape) / block;
    const blockBytes = heap.typedArrayFromHeap(x).byteLength;
    const [src, dst] = [memoryOffset(heap, x), memoryOffset(heap, out)];
    const parts = splitCall(copies, pool.partsFor(util.sizeFromShape(outShape)), 1, (first, end) => [src, dst + first * blockBytes, blockBytes, end - first]);
    if (runPoolCall(pool, REPEAT_FUNCTION, parts)) return out;
  }
  // Views only after the allocation: growing the wasm memory detaches earlier ones.
  const source = heap.typedArrayFromHeap(x);
  const target = heap.typedArrayFromHeap(out);
  target.set(source);
  for (let filled = source.length; filled < target.length; filled *= 2) target.copyWithin(filled, 0, Math.min(filled, target.length - filled));
  return out;
}

function tile({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const { reps } = attrs as { reps: number[] };
  const outShape = x.shape.map((size, i) => size * reps[i]);
  const { from, to } = tileAsBroadcast(x.shape, reps);
  if (x.dtype !== 'string' && util.sizeFromShape(outShape) > 0 && repeatsWhole(from, to)) return repeatWhole(backend, x, outShape);
  if (x.dtype !== 'float32' || to.length > MAX_BROADCAST_RANK || util.sizeFromShape(outShape) === 0) {
    return callStockKernel(Tile, backend, WASM, inputs, attrs);
  }
  return runScoped(backend, WASM, (scope) => {
    const xb = scope.run('Reshape', { x }, { shape: from });
    const base = scope.run('Fill', {}, { shape: to, value: -0, dtype: 'float32' });
    const sum = scope.run('Add', { a: base, b: xb });
    return scope.run('Reshape', { x: sum }, { shape: outShape });
  });
}

export const wasmTileKernel: KernelOverride = {
  kernelName: Tile,
  backendName: WASM,
  kernelFunc: tile as tf.KernelFunc,
};
