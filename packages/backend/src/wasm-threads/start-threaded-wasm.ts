// Starts tfjs-backend-wasm's threaded SIMD build (XNNPACK on a pthread pool) in Node, which tfjs
// itself never does there (its WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired false in Node, tfjs
// issue #3830). Throws when the threaded start fails or takes too long; the caller falls back to one
// thread.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { createPthreadWorkerPool, pthreadWorkerFiles, type PthreadWorkerFiles, type PthreadWorkerPool } from './pthread-worker.js';

export interface ThreadedStartOptions {
  readonly threads: number;
  /** How long the pool may take to start (default 30 s). */
  readonly timeoutMs?: number;
  /** Replaces the pthread worker script (tests force a failing start with it). */
  readonly workerSource?: string;
}

interface WasmModule {
  setThreadsCount(threads: number): void;
  getThreadsCount(): number;
}

let pool: PthreadWorkerPool | null = null;

/** The pthread workers of the threaded backend (empty when it is not running). */
export function pthreadWorkers(): ReadonlySet<unknown> {
  return pool?.workers ?? new Set();
}

/** Resolves to the thread count XNNPACK runs with. */
export async function startThreadedWasm({ threads, timeoutMs = 30_000, workerSource }: ThreadedStartOptions): Promise<number> {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmModule;
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('this runtime has no wasm SIMD, which the threaded build needs');
  const files: PthreadWorkerFiles = { ...pthreadWorkerFiles(), ...(workerSource !== undefined ? { workerSource } : {}) };
  pool = createPthreadWorkerPool(files);
  // The glue assigns the global Worker from worker_threads when it starts; ours must win, for the pool
  // it starts now and any worker it adds later.
  const WorkerClass = pool.WorkerClass;
  const previousWorker = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => WorkerClass, set: () => {} });
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  // The C++ side caps the pool at logical cores / 2 (it assumes hyper-threading): show it twice the
  // cores asked for while it starts.
  const realCpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => realCpus()[i % realCpus().length]!);
  let timer: NodeJS.Timeout | undefined;
  try {
    const started = await Promise.race([
      tf.setBackend('wasm'),
      pool.failed.then((error) => Promise.reject(new Error(`a pthread worker failed to start: ${(error as Error)?.message ?? String(error)}`))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the thread pool did not start within ${timeoutMs} ms`)), timeoutMs))),
    ]);
    if (!started) throw new Error('tfjs could not initialise the threaded wasm backend');
    pool.settle();
    // The glue has made its assignment: from now on a plain global, which it reads for any worker it adds.
    Object.defineProperty(globalThis, 'Worker', { configurable: true, writable: true, value: WorkerClass });
    return wasm.getThreadsCount();
  } catch (error) {
    await pool.terminateAll();
    pool = null;
    if (previousWorker) Object.defineProperty(globalThis, 'Worker', previousWorker);
    else delete (globalThis as { Worker?: unknown }).Worker;
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    throw error;
  } finally {
    clearTimeout(timer);
    os.cpus = realCpus;
  }
}
