// The fused Adam update (core-hooks' FUSED_ADAM_KERNEL) for the cpu backend: one loop instead of
// fourteen tfjs-cpu ops, each allocating and filling a tensor the size of the variable.
import type * as tf from '@tensorflow/tfjs-core';
import { FUSED_ADAM_KERNEL, type FusedAdamAttrs } from '@trainhooks/core-hooks';
import type { KernelOverride } from '../kernel-registry.js';
import { fusedAdamLoop } from '../fused-adam-loop.js';

interface CpuStore {
  data: { get(dataId: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function fusedAdam({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: unknown }): tf.TensorInfo[] {
  const { value, gradient, m, v } = inputs as Record<'value' | 'gradient' | 'm' | 'v', tf.TensorInfo>;
  const store = backend as CpuStore;
  const read = (tensor: tf.TensorInfo) => store.data.get(tensor.dataId).values;
  const size = read(value).length;
  const [newValue, newM, newV] = [new Float32Array(size), new Float32Array(size), new Float32Array(size)];
  fusedAdamLoop({ value: read(value), gradient: read(gradient), m: read(m), v: read(v), newValue, newM, newV }, attrs as FusedAdamAttrs);
  return [newValue, newM, newV].map((values) => store.makeTensorInfo([...value.shape], 'float32', values));
}

export const cpuFusedAdamKernel: KernelOverride = {
  kernelName: FUSED_ADAM_KERNEL,
  backendName: 'cpu',
  kernelFunc: fusedAdam as unknown as tf.KernelFunc,
};
