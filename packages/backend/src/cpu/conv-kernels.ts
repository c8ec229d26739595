import type { KernelOverride } from '../kernel-registry.js';
import { cpuConv2DBackpropFilterKernel } from './conv2d-backprop-filter.js';

export const CPU_CONV_KERNELS: readonly KernelOverride[] = [cpuConv2DBackpropFilterKernel];
