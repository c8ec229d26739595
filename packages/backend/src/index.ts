export { setupBackend, FAST_KERNELS, type BackendSetup, type BackendChoice } from './setup-backend.js';
export { installKernels, uninstallKernels, stockKernel, callKernel, callStockKernel, type KernelOverride } from './kernel-registry.js';
export { WASM_KERNELS } from './wasm/index.js';
export { CPU_KERNELS } from './cpu/index.js';
