// The fused Adam update (core-hooks' FUSED_ADAM_KERNEL) for wasm: the kernel pool's SIMD loop
// (fused-adam-wat.ts), split by elements over its threads for the largest variables; without the pool,
// the same arithmetic in JavaScript on the wasm heap. Either way one pass where tfjs runs fourteen ops.
import type * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { FUSED_ADAM_KERNEL, type FusedAdamAttrs } from '@trainhooks/core-hooks';
import type { KernelOverride } from '../kernel-registry.js';
import { fusedAdamLoop } from '../fused-adam-loop.js';
import { activeKernelPool } from '../wasm-threads/active-kernel-pool.js';
import { FUSED_ADAM_FUNCTION, FUSED_ADAM_PARAMS } from '../wasm-threads/fused-adam-wat.js';
import { partRange, type CallArguments } from '../wasm-threads/kernel-pool.js';
import { memoryOffset, runPoolCall, withParamBlock, type KernelArgs, type WasmHeap, type WasmMemoryBackend } from './kernel-utils.js';

function fusedAdam({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { value, gradient, m, v } = inputs as Record<'value' | 'gradient' | 'm' | 'v', tf.TensorInfo>;
  const heap = backend as unknown as WasmMemoryBackend & WasmHeap;
  const scalars = attrs as unknown as FusedAdamAttrs;
  const outputs = [0, 1, 2].map(() => heap.makeOutput([...value.shape], 'float32'));
  if (!onPool(heap, [value, gradient, m, v], outputs, scalars)) {
    // Views only after the allocations: growing the wasm memory detaches earlier ones.
    const [w, g, mv, vv, newValue, newM, newV] = [value, gradient, m, v, ...outputs].map((t) => heap.typedArrayFromHeap(t) as Float32Array);
    fusedAdamLoop({ value: w!, gradient: g!, m: mv!, v: vv!, newValue: newValue!, newM: newM!, newV: newV! }, scalars);
  }
  return outputs;
}

/** The pool's SIMD loop; false when there is no pool or it failed (the outputs are then still to fill). */
function onPool(heap: WasmMemoryBackend & WasmHeap, inputs: tf.TensorInfo[], outputs: tf.TensorInfo[], scalars: FusedAdamAttrs): boolean {
  const pool = activeKernelPool();
  if (!pool) return false;
  const size = util.sizeFromShape(inputs[0]!.shape);
  const values = FUSED_ADAM_PARAMS.map((name) => scalars[name]);
  return withParamBlock(
    heap,
    values,
    (paramsAt) => {
      const at = [...inputs, ...outputs].map((tensor) => memoryOffset(heap, tensor));
      const threads = pool.partsFor(size);
      const parts: CallArguments[] = [];
      for (let i = 0; i < threads; i++) {
        // Parts start on 16-byte boundaries, where the 4-lane loop begins.
        const [first, end] = partRange(size, threads, i, 4);
        if (end > first) parts.push([...at.map((offset) => offset + 4 * first), end - first, paramsAt]);
      }
      return runPoolCall(pool, FUSED_ADAM_FUNCTION, parts);
    },
    'float32',
  );
}

export const wasmFusedAdamKernel: KernelOverride = {
  kernelName: FUSED_ADAM_KERNEL,
  backendName: 'wasm',
  kernelFunc: fusedAdam as unknown as tf.KernelFunc,
};
