// The fused optimizer updates (core-hooks' FUSED_ADAM_KERNEL, FUSED_RMSPROP_KERNEL) for the cpu backend:
// one loop instead of tfjs-cpu's nine to fourteen ops, each allocating and filling a variable-sized tensor.
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelOverride } from '../kernel-registry.js';
import { FUSED_ADAM, FUSED_RMSPROP, type FusedUpdate } from '../fused-update-loops.js';

interface CpuStore {
  data: { get(dataId: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** A kernel with inputs value, gradient and the update's two slots; outputs the new three. */
function fusedKernel({ kernelName, slots, loop }: FusedUpdate): KernelOverride {
  const kernelFunc = ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: unknown }): tf.TensorInfo[] => {
    const store = backend as CpuStore;
    const read = (name: string) => store.data.get(inputs[name]!.dataId).values;
    const shape = [...inputs.value!.shape];
    const size = read('value').length;
    const [newValue, newA, newB] = [new Float32Array(size), new Float32Array(size), new Float32Array(size)];
    loop({ value: read('value'), gradient: read('gradient'), a: read(slots[0]), b: read(slots[1]), newValue, newA, newB }, attrs as never);
    return [newValue, newA, newB].map((values) => store.makeTensorInfo(shape, 'float32', values));
  };
  return { kernelName, backendName: 'cpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

export const CPU_FUSED_OPTIMIZER_KERNELS: readonly KernelOverride[] = [
  fusedKernel(FUSED_ADAM),
  fusedKernel(FUSED_RMSPROP),
];
