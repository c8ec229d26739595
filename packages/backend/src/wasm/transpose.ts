// wasm Transpose, cache-blocked, in JavaScript on the wasm heap — or, for 4-byte elements and up to three
// axes after merging, as the kernel pool's SIMD wasm (pool-transpose.ts).
//
// Stock wasm walks the output in order and reads the input at a stride: every read a cache miss once the
// tensor outgrows the cache, ~8 ns per element (10 ms for a 64×26×26×32 activation). Transposes are the
// single-threaded part of our backward kernels (the filter gradient transposes x and dy; transposed
// matmuls transpose an operand first), so they also cap what wasm threads can gain. Here the two axes
// that trade places at the innermost position are walked in small square tiles, so reads and writes
// both stay within a few cache lines: ~3 ns per element. Axes that stay in order are merged first. A
// transpose that keeps rows in order (the innermost axis stays innermost) is stock's fast case: left to it.
import * as tf from '@tensorflow/tfjs-core';
import { Transpose } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { activeKernelPool } from '../wasm-threads/active-kernel-pool.js';
import { transposeStrides, type KernelArgs, type WasmHeap } from './kernel-utils.js';
import { poolTranspose } from './pool-transpose.js';

const WASM = 'wasm';
/** Tile edge: 16 × 16 floats read and written, 2 KB, well inside L1. */
const TILE = 16;

/** Drops size-1 axes and merges axes that stay adjacent and in order: the same copy, fewer axes. */
export function simplifyTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((axis) => shape[axis] !== 1);
  // Runs of input axes that follow each other in the output too.
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups.at(-1);
    if (last && last.at(-1)! + 1 === axis) last.push(axis);
    else groups.push([axis]);
  }
  const order = [...groups].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: order.map((group) => group.reduce((size, axis) => size * shape[axis]!, 1)),
    perm: groups.map((group) => order.indexOf(group)),
  };
}

/** out = src transposed by perm (shape is src's), for a perm that moves the innermost axis. */
export function transposeInto(src: ArrayLike<number>, out: { [i: number]: number }, shape: readonly number[], perm: readonly number[]): void {
  const rank = shape.length;
  const { inStrides, outStrideOf } = transposeStrides(shape, perm);

  const inner = rank - 1; // contiguous in the input
  const outInner = perm[rank - 1]!; // contiguous in the output
  const sizeInner = shape[inner]!;
  const sizeOutInner = shape[outInner]!;
  const outer = [...Array(rank).keys()].filter((axis) => axis !== inner && axis !== outInner);
  const index = new Array<number>(outer.length).fill(0);
  let inBase = 0;
  let outBase = 0;
  const total = outer.reduce((n, axis) => n * shape[axis]!, 1);

  const inStrideA = inStrides[outInner]!; // stepping along the output's innermost axis, in the input
  const outStrideB = outStrideOf[inner]!; // stepping along the input's innermost axis, in the output
  for (let count = 0; count < total; count++) {
    for (let a0 = 0; a0 < sizeOutInner; a0 += TILE) {
      const a1 = Math.min(sizeOutInner, a0 + TILE);
      for (let b0 = 0; b0 < sizeInner; b0 += TILE) {
        const b1 = Math.min(sizeInner, b0 + TILE);
        for (let b = b0; b < b1; b++) {
          const o = outBase + b * outStrideB;
          let i = inBase + b + a0 * inStrideA;
          for (let a = a0; a < a1; a++, i += inStrideA) out[o + a] = src[i]!;
        }
      }
    }
    // Next outer index (odometer, last outer axis fastest).
    for (let k = outer.length - 1; k >= 0; k--) {
      const axis = outer[k]!;
      inBase += inStrides[axis]!;
      outBase += outStrideOf[axis]!;
      if (++index[k]! < shape[axis]!) break;
      inBase -= inStrides[axis]! * shape[axis]!;
      outBase -= outStrideOf[axis]! * shape[axis]!;
      index[k] = 0;
    }
  }
}

function transpose({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const { perm } = attrs as unknown as { perm: number[] };
  const simple = simplifyTranspose(x.shape, perm);
  const rank = simple.shape.length;
  // Ours only where the innermost axis moves. When rows keep their order (or nothing moves) stock
  // copies row by row in C++, faster than JavaScript can.
  if (x.dtype === 'string' || x.dtype === 'complex64' || rank < 2 || simple.perm[rank - 1] === rank - 1) {
    return callStockKernel(Transpose, backend, WASM, inputs, attrs);
  }
  const pooled = poolTranspose(activeKernelPool(), x, perm, simple, backend);
  if (pooled) return pooled;
  const heap = backend as unknown as WasmHeap;
  const out = heap.makeOutput(perm.map((axis) => x.shape[axis]!), x.dtype);
  // Views only after the allocation: growing the wasm memory detaches earlier ones.
  transposeInto(heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out), simple.shape, simple.perm);
  return out;
}

export const wasmTransposeKernel: KernelOverride = {
  kernelName: Transpose,
  backendName: WASM,
  kernelFunc: transpose as tf.KernelFunc,
};
