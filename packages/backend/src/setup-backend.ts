import { selectBackend, type BackendChoice } from '@trainhooks/core-hooks';
import { CPU_KERNELS } from './cpu/index.js';
import { installKernels, type KernelOverride } from './kernel-registry.js';
import { WASM_KERNELS } from './wasm/index.js';

export type { BackendChoice };

/** Our kernels per tfjs backend name; tfjs-node (tensorflow) needs none. */
export const FAST_KERNELS: Readonly<Record<string, readonly KernelOverride[]>> = {
  wasm: WASM_KERNELS,
  cpu: CPU_KERNELS,
};

export interface BackendSetup {
  /** 'node-gpu' | 'node' | 'wasm' | 'cpu' */
  readonly choice: Exclude<BackendChoice, 'auto'>;
  /** tfjs' name for it ('tensorflow' for tfjs-node). */
  readonly backend: string;
  /** Kernels we registered for it. */
  readonly kernels: readonly string[];
}

/**
 * Picks a backend like core-hooks' selectBackend ('auto': tfjs-node-gpu › tfjs-node › wasm › cpu,
 * whichever is importable) and registers our kernels for it. Works in worker threads: each thread
 * has its own tfjs engine and kernel registry, so call it once per thread.
 */
export async function setupBackend(
  preference: BackendChoice = 'auto',
  log: (message: string) => void = (message) => console.log(message),
): Promise<BackendSetup> {
  const selected = await selectBackend(preference, () => {});
  const ours = FAST_KERNELS[selected.backend] ?? [];
  installKernels(ours);
  const kernels = ours.map((kernel) => kernel.kernelName);
  const note = kernels.length > 0 ? ` + trainhooks kernels: ${kernels.join(', ')}` : '';
  log(`[trainhooks] backend: ${selected.choice}${note}`);
  return { ...selected, kernels };
}
