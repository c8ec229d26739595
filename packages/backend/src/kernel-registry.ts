import * as tf from '@tensorflow/tfjs-core';

/** A kernel we add or replace: tfjs' own KernelConfig, for one backend. */
export type KernelOverride = tf.KernelConfig;

// The stock kernels we replaced, so a replacement can still call the original (e.g. BatchMatMul
// without transposes is XNNPACK's fast path; only the transposed cases are slow).
const stockKernels = new Map<string, tf.KernelConfig>();
const installed = new Set<string>();

const key = (kernelName: string, backendName: string) => `${backendName}:${kernelName}`;

/** The kernel tfjs registered before we replaced it; undefined if tfjs had none. */
export function stockKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  return stockKernels.get(key(kernelName, backendName));
}

/**
 * Registers our kernels for a backend, replacing stock ones. Idempotent. Call it after the backend's
 * package has been imported, or the package's own registration would overwrite ours.
 */
export function installKernels(kernels: readonly KernelOverride[]): string[] {
  const names: string[] = [];
  for (const kernel of kernels) {
    const id = key(kernel.kernelName, kernel.backendName);
    if (installed.has(id)) continue;
    const existing = tf.getKernelsForBackend(kernel.backendName).find((k) => k.kernelName === kernel.kernelName);
    if (existing) {
      stockKernels.set(id, existing);
      tf.unregisterKernel(kernel.kernelName, kernel.backendName);
    }
    // tfjs runs a kernel's setup only when the backend starts: if we replace a stock kernel before
    // that, its setup must still run for callStockKernel to work.
    const inheritsSetup = existing && !kernel.setupFunc && (existing.setupFunc || existing.disposeFunc);
    tf.registerKernel(inheritsSetup ? { ...kernel, setupFunc: existing.setupFunc, disposeFunc: existing.disposeFunc } : kernel);
    installed.add(id);
    names.push(kernel.kernelName);
  }
  return names;
}

/** Puts the stock kernels back (for A/B benchmarks against stock tfjs). */
export function uninstallKernels(kernels: readonly KernelOverride[]): void {
  for (const kernel of kernels) {
    const id = key(kernel.kernelName, kernel.backendName);
    if (!installed.has(id)) continue;
    tf.unregisterKernel(kernel.kernelName, kernel.backendName);
    const stock = stockKernels.get(id);
    if (stock) tf.registerKernel(stock);
    installed.delete(id);
  }
}

/** Runs `kernel` directly (no engine, no tape); throws naming the backend and kernel when there is none. */
function runKernelDirectly(
  kernel: tf.KernelConfig | undefined,
  kernelName: string,
  backend: tf.KernelBackend,
  backendName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  if (!kernel) throw new Error(`trainhooks: backend '${backendName}' has no kernel '${kernelName}'`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}

/**
 * Runs the currently registered kernel of a backend from inside a kernel, without going through the
 * engine (no tape, no tracking), so nothing frees its output but the caller. Our kernels call it
 * through a KernelScope (see kernel-scope.ts: `runScoped`), which frees their intermediates.
 */
export function callKernel(
  kernelName: string,
  backend: tf.KernelBackend,
  backendName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  return runKernelDirectly(tf.getKernel(kernelName, backendName), kernelName, backend, backendName, inputs, attrs);
}

/** Like callKernel, but runs the stock kernel that one of ours replaced (the current one if none was). */
export function callStockKernel(
  kernelName: string,
  backend: tf.KernelBackend,
  backendName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const kernel = stockKernel(kernelName, backendName) ?? tf.getKernel(kernelName, backendName);
  return runKernelDirectly(kernel, kernelName, backend, backendName, inputs, attrs);
}
