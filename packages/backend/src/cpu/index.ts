// The cpu kernels we replace. One kernel per file; this registry lists them.
import type { KernelOverride } from '../kernel-registry.js';
import { CPU_CONV_KERNELS } from './conv-kernels.js';
import { CPU_FUSED_OPTIMIZER_KERNELS } from './fused-optimizers.js';

export const CPU_KERNELS: readonly KernelOverride[] = [...CPU_CONV_KERNELS, ...CPU_FUSED_OPTIMIZER_KERNELS];
