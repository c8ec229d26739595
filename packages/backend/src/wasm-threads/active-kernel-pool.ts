// The kernel pool of threaded wasm (kernel-pool.ts): started by setupBackend, used by our binary and
// transpose kernels, stopped by disposeBackend. None with one thread (the kernels then leave the work to stock wasm).
import { KernelPool } from './kernel-pool.js';

let active: KernelPool | null = null;

export function startKernelPool(memory: WebAssembly.Memory, threads: number): KernelPool {
  active = new KernelPool(memory, threads - 1);
  return active;
}

/** The running pool, or null (one thread, not started, stopped, or a helper failed). */
export function activeKernelPool(): KernelPool | null {
  return active?.running ? active : null;
}

export async function stopKernelPool(): Promise<void> {
  const pool = active;
  active = null;
  await pool?.stop();
}
