// wasm Cast: to the dtype a tensor already has without the copy, to bool right.
//
// tfjs' ReLU gradient is dy · cast(step(x), 'float32') — a float32 "cast" to float32 — and stock wasm's
// Cast copies the tensor whatever the dtypes (resnet: 12–15 ms of a step at batch 64). Like Identity
// (see identity.ts, and tfjs-cpu's Cast), the output then shares the input's data. Stock wasm also
// casts to bool by storing each number into a byte (−2 → 254, 256 → 0, 0.4 → 0) where tfjs-cpu gives
// x ≠ 0; here it is x ≠ 0 (NaN → true, as on cpu). Other conversions go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import { Cast } from '@tensorflow/tfjs-core';
import { callStockKernel, type KernelOverride } from '../kernel-registry.js';
import { shareData, type KernelArgs, type WasmHeap } from './kernel-utils.js';

const WASM = 'wasm';

function cast({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const { dtype } = attrs as { dtype: tf.DataType };
  if (x.dtype === 'string') return callStockKernel(Cast, backend, WASM, inputs, attrs);
  if (dtype === x.dtype) return shareData(backend, x);
  if (dtype === 'bool') return notZero(backend as unknown as WasmHeap, x);
  return callStockKernel(Cast, backend, WASM, inputs, attrs);
}

function notZero(heap: WasmHeap, x: tf.TensorInfo): tf.TensorInfo {
  const out = heap.makeOutput([...x.shape], 'bool');
  // Views only after the allocation: growing the wasm memory detaches earlier ones.
  const [values, flags] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out)];
  for (let i = 0; i < values.length; i++) flags[i] = values[i] !== 0 ? 1 : 0;
  return out;
}

export const wasmCastKernel: KernelOverride = {
  kernelName: Cast,
  backendName: WASM,
  kernelFunc: cast as tf.KernelFunc,
};
