// The wasm kernels we add or replace. One kernel per file; this registry lists them.
import type { KernelOverride } from '../kernel-registry.js';
import { WASM_CONV_KERNELS } from './conv-kernels.js';
import { WASM_MATMUL_KERNELS } from './matmul-kernels.js';
import { WASM_SEGMENT_KERNELS } from './segment-kernels.js';
import { WASM_TRAINING_KERNELS } from './training-kernels.js';

export const WASM_KERNELS: readonly KernelOverride[] = [
  ...WASM_CONV_KERNELS,
  ...WASM_MATMUL_KERNELS,
  ...WASM_SEGMENT_KERNELS,
  ...WASM_TRAINING_KERNELS,
];
