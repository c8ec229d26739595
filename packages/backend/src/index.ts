export { setupBackend, backendInfo, disposeBackend, FAST_KERNELS, type BackendOptions, type BackendSetup, type BackendChoice } from './setup-backend.js';
export { pthreadWorkers } from './wasm-threads/start-threaded-wasm.js';
export { installKernels, uninstallKernels, stockKernel, callKernel, callStockKernel, type KernelOverride } from './kernel-registry.js';
export { installGradients, uninstallGradients } from './gradient-registry.js';
export { FAST_GRADIENTS } from './gradients/index.js';
export { WASM_KERNELS } from './wasm/index.js';
export { CPU_KERNELS } from './cpu/index.js';
