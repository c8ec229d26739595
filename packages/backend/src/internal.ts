// @trainhooks/backend/internal — UNSTABLE. The public API plus the kernel lists, the kernel and
// gradient registries and the pthread workers, for tests and benchmarks. No semver promise.
export * from './index.js';
export { FAST_KERNELS } from './setup-backend.js';
export { activateBackend, firstAvailableBackend } from './backend-choice.js';
export { pthreadWorkers } from './wasm-threads/start-threaded-wasm.js';
export { installKernels, uninstallKernels, stockKernel, callKernel, callStockKernel, type KernelOverride } from './kernel-registry.js';
export { installGradients, uninstallGradients } from './gradient-registry.js';
export { FAST_GRADIENTS } from './gradients/index.js';
export { WASM_KERNELS } from './wasm/index.js';
export { CPU_KERNELS } from './cpu/index.js';
