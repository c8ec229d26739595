// The process's elementwise pool: started by setupBackend with threaded wasm, used by our binary kernels,
// stopped by disposeBackend. None with one thread (the kernels then leave the work to stock wasm).
import { ElementwisePool } from './elementwise-pool.js';

let active: ElementwisePool | null = null;

export function startElementwisePool(memory: WebAssembly.Memory, threads: number): ElementwisePool {
  active = new ElementwisePool(memory, threads - 1);
  return active;
}

/** The running pool, or null (one thread, not started, stopped, or a helper failed). */
export function activeElementwisePool(): ElementwisePool | null {
  return active?.running ? active : null;
}

export async function stopElementwisePool(): Promise<void> {
  const pool = active;
  active = null;
  await pool?.stop();
}
