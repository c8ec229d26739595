import type { KernelOverride } from '../kernel-registry.js';
import { wasmUnsortedSegmentSumKernel } from './unsorted-segment-sum.js';

export const WASM_SEGMENT_KERNELS: readonly KernelOverride[] = [wasmUnsortedSegmentSumKernel];
