import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { activateBackend, firstAvailableBackend, type BackendChoice, type ConcreteBackend, type SelectedBackend } from './backend-choice.js';
import { CPU_KERNELS } from './cpu/index.js';
import { installGradients } from './gradient-registry.js';
import { FAST_GRADIENTS } from './gradients/index.js';
import { installKernels, type KernelOverride } from './kernel-registry.js';
import { WASM_KERNELS } from './wasm/index.js';
import { preservingProcessErrorHandlers } from './wasm-threads/process-error-handlers.js';
import { activeKernelPool, startKernelPool, stopKernelPool } from './wasm-threads/active-kernel-pool.js';
import { startThreadedWasm } from './wasm-threads/start-threaded-wasm.js';

/** Our kernels per tfjs backend name; tfjs-node (tensorflow) needs none. */
export const FAST_KERNELS: Readonly<Record<string, readonly KernelOverride[]>> = {
  wasm: WASM_KERNELS,
  cpu: CPU_KERNELS,
};

export interface BackendOptions {
  /**
   * Threads of the wasm backend (XNNPACK's pool); default: the machine's available parallelism.
   * 1 keeps tfjs' single-threaded build. Ignored by the other backends.
   */
  readonly threads?: number;
  /** Receives the one line naming the choice (default console.log; `() => {}` silences it). */
  readonly log?: (message: string) => void;
  /** Receives the warning when the threaded start fails and one thread is used (default console.warn). */
  readonly warn?: (message: string) => void;
  /** How long the wasm thread pool may take to start before falling back (default 30 s). */
  readonly threadStartTimeoutMs?: number;
  /** Replaces the pthread worker script; for tests that force a failing threaded start. */
  readonly pthreadWorkerSource?: string;
}

export interface BackendSetup {
  /** 'node-gpu' | 'node' | 'wasm' | 'cpu' */
  readonly choice: ConcreteBackend;
  /** tfjs' name for it ('tensorflow' for tfjs-node). */
  readonly backend: string;
  /** Kernels we registered for it. */
  readonly kernels: readonly string[];
  /** Kernels whose gradients we replaced (for every backend: tfjs keeps one gradient per kernel). */
  readonly gradients: readonly string[];
  /** Threads the backend computes with: wasm's pool size, 1 on cpu, null for tfjs-node (it manages its own). */
  readonly threads: number | null;
}

let current: BackendSetup | null = null;

/** What the last setupBackend chose, or null before the first (or after disposeBackend). */
export function backendInfo(): BackendSetup | null {
  return current;
}

/**
 * Removes the backend setupBackend chose and ends its threads (the wasm pthread workers and the kernel
 * pool's helpers). tfjs cannot register a removed backend again in the same process.
 */
export function disposeBackend(): void {
  void stopKernelPool();
  if (current && current.backend in tf.engine().registryFactory) tf.removeBackend(current.backend);
  current = null;
}

/**
 * Picks a backend ('auto': tfjs-node-gpu › tfjs-node › wasm › cpu, whichever is importable), starts wasm with a thread pool (falling back to one thread, with a
 * warning, when that fails), and registers our kernels. Leaves the process's uncaughtException /
 * unhandledRejection listeners as it found them. Works in worker threads: each has its own tfjs
 * engine, kernel registry and thread count, so call it once per thread.
 *
 * The second argument is the options, or (the older form) just the log function.
 */
export async function setupBackend(preference: BackendChoice = 'auto', logOrOptions: BackendOptions | BackendOptions['log'] = {}): Promise<BackendSetup> {
  const options: BackendOptions = typeof logOrOptions === 'function' ? { log: logOrOptions } : (logOrOptions ?? {});
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`setupBackend: threads must be a whole number ≥ 1, got ${threads}`);
  const log = options.log ?? ((message: string) => console.log(message));

  const { selected, threadCount } = await preservingProcessErrorHandlers(() => select(preference, threads, options));
  const ours = FAST_KERNELS[selected.backend] ?? [];
  installKernels(ours);
  installGradients(FAST_GRADIENTS);
  const kernels = ours.map((kernel) => kernel.kernelName);
  const gradients = FAST_GRADIENTS.map((gradient) => gradient.kernelName);
  const threadNote = threadCount === null ? '' : `, ${threadCount} thread${threadCount === 1 ? '' : 's'}`;
  const note = kernels.length > 0 ? ` + trainhooks kernels: ${kernels.join(', ')}` : '';
  log(`[trainhooks] backend: ${selected.choice}${threadNote}${note}; gradients: ${gradients.join(', ')}`);
  current = { ...selected, kernels, gradients, threads: threadCount };
  return current;
}

function select(preference: BackendChoice, threads: number, options: BackendOptions): Promise<{ selected: SelectedBackend; threadCount: number | null }> {
  return firstAvailableBackend(preference, async (choice) => {
    if (choice === 'wasm') return selectWasm(threads, options);
    return { selected: await activateBackend(choice), threadCount: choice === 'cpu' ? 1 : null };
  });
}

async function selectWasm(threads: number, options: BackendOptions): Promise<{ selected: SelectedBackend; threadCount: number }> {
  // Not installed: the caller moves on to the next backend, with no warning about threads.
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as { getThreadsCount(): number };
  // Once tfjs has started wasm in this process its thread count is fixed: reuse it as it is.
  const started = 'wasm' in tf.engine().registry;
  if (threads > 1 && !started) {
    try {
      const threadCount = await startThreadedWasm({ threads, timeoutMs: options.threadStartTimeoutMs, workerSource: options.pthreadWorkerSource });
      startKernelPoolOrWarn(threadCount, options);
      return { selected: { choice: 'wasm', backend: 'wasm' }, threadCount };
    } catch (error) {
      const warn = options.warn ?? ((message: string) => console.warn(message));
      warn(`[trainhooks] multi-threaded wasm did not start (${(error as Error).message}); using one thread`);
    }
  }
  const selected = await activateBackend('wasm');
  const threadCount = wasm.getThreadsCount();
  startKernelPoolOrWarn(threadCount, options);
  return { selected, threadCount };
}

/**
 * The kernel pool: our binary kernels, transposes and some gradient kernels as SIMD wasm, on as many
 * threads as XNNPACK has (tfjs-wasm's own binary kernels use one). A warning, and the kernels as before,
 * if it cannot start.
 */
function startKernelPoolOrWarn(threads: number, options: BackendOptions): void {
  if (activeKernelPool()) return;
  try {
    startKernelPool(tf.findBackend('wasm'), threads);
  } catch (error) {
    const warn = options.warn ?? ((message: string) => console.warn(message));
    warn(`[trainhooks] the kernel pool did not start (${(error as Error).message}); its kernels run as they do without it`);
  }
}
