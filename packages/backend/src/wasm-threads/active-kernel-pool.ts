// The process's kernel pool (kernel-pool.ts): started by setupBackend on tfjs-wasm's memory with as many
// threads as wasm has (helpers only beyond the first), used by our binary and transpose kernels, stopped
// by disposeBackend. Without it those kernels do what they did before the pool.
import { KernelPool } from './kernel-pool.js';

let active: KernelPool | null = null;

/** Starts the pool on the memory of `wasmBackend` (tfjs-wasm's backend object); throws if it has none. */
export function startKernelPool(wasmBackend: unknown, threads: number): KernelPool {
  const module = (wasmBackend as { wasm?: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } } }).wasm;
  // The threaded build hands its memory to the glue, the one-threaded one exports it.
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  if (!memory) throw new Error("tfjs-wasm's memory is not reachable");
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
