// The fused optimizer updates (core-hooks' FUSED_ADAM_KERNEL, FUSED_RMSPROP_KERNEL) for wasm: the kernel
// pool's SIMD loops (fused-adam-wat.ts, fused-rmsprop-wat.ts), split by elements over its threads for
// the largest variables; without the pool, the same arithmetic in JavaScript on the wasm heap. Either
// way one pass where tfjs runs nine (RMSProp) or fourteen (Adam) tensor ops.
import type * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { KernelOverride } from '../kernel-registry.js';
import { FUSED_ADAM, FUSED_RMSPROP, type FusedUpdate } from '../fused-update-loops.js';
import { activeKernelPool } from '../wasm-threads/active-kernel-pool.js';
import { FUSED_ADAM_FUNCTION, FUSED_ADAM_PARAMS } from '../wasm-threads/fused-adam-wat.js';
import { FUSED_RMSPROP_FUNCTION, FUSED_RMSPROP_PARAMS } from '../wasm-threads/fused-rmsprop-wat.js';
import { splitCall } from '../wasm-threads/kernel-pool.js';
import { memoryOffset, runPoolCall, withParamBlock, type KernelArgs, type WasmHeap, type WasmMemoryBackend } from './kernel-utils.js';

type Heap = WasmMemoryBackend & WasmHeap;

/** A fused update and its loop in the pool's module. */
interface PoolFusedUpdate extends FusedUpdate {
  readonly poolFunction: string;
  /** The attrs, in the pool function's parameter-block order. */
  readonly params: readonly string[];
}

/** The pool's SIMD loop; false when there is no pool or it failed (the outputs are then still to fill). */
function onPool(update: PoolFusedUpdate, heap: Heap, tensors: tf.TensorInfo[], attrs: Record<string, number>): boolean {
  const pool = activeKernelPool();
  if (!pool) return false;
  const size = util.sizeFromShape(tensors[0]!.shape);
  const values = update.params.map((name) => attrs[name]!);
  return withParamBlock(
    heap,
    values,
    (paramsAt) => {
      const offsets = tensors.map((tensor) => memoryOffset(heap, tensor));
      const threads = pool.partsFor(size);
      // Parts start on 16-byte boundaries, where the 4-lane loop begins.
      const parts = splitCall(size, threads, 4, (first, end) => [...offsets.map((offset) => offset + 4 * first), end - first, paramsAt]);
      return runPoolCall(pool, update.poolFunction, parts);
    },
    'float32',
  );
}

function fusedKernel(update: PoolFusedUpdate): KernelOverride {
  const kernelFunc = ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] => {
    const heap = backend as unknown as Heap;
    const ins = ['value', 'gradient', ...update.slots].map((name) => inputs[name]!);
    const outputs = [0, 1, 2].map(() => heap.makeOutput([...ins[0]!.shape], 'float32'));
    const scalars = attrs as unknown as Record<string, number>;
    if (!onPool(update, heap, [...ins, ...outputs], scalars)) {
      // Views only after the allocations: growing the wasm memory detaches earlier ones.
      const [value, gradient, a, b, newValue, newA, newB] = [...ins, ...outputs].map((t) => heap.typedArrayFromHeap(t) as Float32Array);
      update.loop({ value: value!, gradient: gradient!, a: a!, b: b!, newValue: newValue!, newA: newA!, newB: newB! }, scalars as never);
    }
    return outputs;
  };
  return { kernelName: update.kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

export const WASM_FUSED_OPTIMIZER_KERNELS: readonly KernelOverride[] = [
  fusedKernel({ ...FUSED_ADAM, poolFunction: FUSED_ADAM_FUNCTION, params: FUSED_ADAM_PARAMS }),
  fusedKernel({ ...FUSED_RMSPROP, poolFunction: FUSED_RMSPROP_FUNCTION, params: FUSED_RMSPROP_PARAMS }),
];
