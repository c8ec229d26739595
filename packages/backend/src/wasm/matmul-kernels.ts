import type { KernelOverride } from '../kernel-registry.js';
import { wasmBatchMatMulKernel } from './batch-mat-mul.js';
import { wasmFusedMatMulKernel } from './fused-mat-mul.js';

export const WASM_MATMUL_KERNELS: readonly KernelOverride[] = [wasmBatchMatMulKernel, wasmFusedMatMulKernel];
