// Runs the pool module's kernels (pool-module-wat.ts) on several threads at once, over tfjs-wasm's shared
// memory: the calling thread takes the first part of the range, each helper thread one of the others.
// tfjs calls kernels synchronously, so the caller blocks until its helpers are done (Atomics.wait, which
// Node allows on its main thread); a helper sleeps in Atomics.wait between calls and costs nothing while
// XNNPACK's own pool runs. Helpers are unref'd (a script still exits by itself) and ended by stop().
import { Worker } from 'node:worker_threads';
import { POOL_FUNCTIONS } from './pool-module-wat.js';
import { POOL_WASM_BASE64, POOL_WASM_SHARED_BASE64 } from './pool-wasm.generated.js';

/** Int32 slots per helper: [generation, done generation (negative: failed), function index, up to 9 arguments]. */
const SLOTS = 12;
/** A helper that has not answered within this long is taken for dead: the call throws, the pool stops. */
const HELPER_TIMEOUT_MS = 10_000;

// The helper: plain JavaScript run with `eval`, so it loads the same way whether this package is used as
// ESM, CJS or bundled. It runs the function it is told to on its part, then reports the generation.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, offset, names } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const functions = names.map((name) => exports[name]);
const slots = new Int32Array(control, offset * 4, ${SLOTS});
let seen = 0;
for (;;) {
  Atomics.wait(slots, 0, seen);
  seen = Atomics.load(slots, 0);
  if (seen < 0) break;
  let done = seen;
  try {
    functions[slots[2]](slots[3], slots[4], slots[5], slots[6], slots[7], slots[8], slots[9], slots[10], slots[11]);
  } catch {
    done = -seen;
  }
  Atomics.store(slots, 1, done);
  Atomics.notify(slots, 1);
}
`;

type Exported = Record<string, (...args: number[]) => void>;

/**
 * Calls over fewer elements run on the calling thread alone. In training steps on this project's 2-vCPU
 * machine, splitting smaller ones measured no faster or slower: a memory-bound pass gains little from a
 * second thread, and waking a helper beside XNNPACK's own threads costs (BENCHMARKS.md).
 */
export const POOL_SPLIT_MIN_SIZE = 1 << 20;

/** [start, end) of part i of `count` items split `parts` ways, in multiples of `align`. */
export function partRange(count: number, parts: number, i: number, align: number): [number, number] {
  const chunk = Math.ceil(count / parts / align) * align;
  return [Math.min(count, i * chunk), Math.min(count, (i + 1) * chunk)];
}

/** One part of a call: the function's arguments (at most 9). */
export type CallArguments = readonly number[];

/**
 * A call's parts: `count` items split `parts` ways in multiples of `align` (partRange), each non-empty
 * range [first, end) turned into its arguments.
 */
export function splitCall(count: number, parts: number, align: number, argumentsOf: (first: number, end: number) => CallArguments): CallArguments[] {
  const calls: CallArguments[] = [];
  for (let i = 0; i < parts; i++) {
    const [first, end] = partRange(count, parts, i, align);
    if (end > first) calls.push(argumentsOf(first, end));
  }
  return calls;
}

export class KernelPool {
  private readonly functions: Exported;
  private readonly slots: Int32Array;
  private readonly helpers: Worker[];
  private generation = 0;
  private broken: Error | null = null;

  /**
   * Starts `helpers` threads on `memory` (tfjs-wasm's in practice): a shared memory for helpers, any
   * memory for none (one-threaded wasm: the kernels then run on the calling thread only).
   */
  constructor(memory: WebAssembly.Memory, helpers: number) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    if (helpers > 0 && !shared) throw new Error('helper threads need a shared wasm memory');
    const module = new WebAssembly.Module(Buffer.from(shared ? POOL_WASM_SHARED_BASE64 : POOL_WASM_BASE64, 'base64'));
    this.functions = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exported;
    const control = new SharedArrayBuffer(Math.max(1, helpers) * SLOTS * 4);
    this.slots = new Int32Array(control);
    this.helpers = Array.from({ length: helpers }, (_, index) => {
      const worker = new Worker(HELPER_SOURCE, {
        eval: true,
        workerData: { module, memory, control, offset: index * SLOTS, names: POOL_FUNCTIONS },
      });
      worker.unref();
      return worker;
    });
  }

  /** Threads a call is split over: the caller and its helpers. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** How many parts a call over `size` elements should be split into (1 below POOL_SPLIT_MIN_SIZE). */
  partsFor(size: number): number {
    return size >= POOL_SPLIT_MIN_SIZE ? this.threads : 1;
  }

  /** Whether calls can run (false once a helper failed or stop() ran). */
  get running(): boolean {
    return this.broken === null;
  }

  /**
   * Runs `name` with parts[0]'s arguments on this thread and parts[i]'s on helper i − 1, and returns when
   * all are done. Throws (and stops the pool) when a helper fails or does not answer.
   */
  run(name: string, parts: readonly CallArguments[]): void {
    if (this.broken) throw this.broken;
    if (parts.length > this.threads) throw new Error(`${parts.length} parts for ${this.threads} threads`);
    const index = POOL_FUNCTIONS.indexOf(name);
    if (index < 0) throw new Error(`no pool function ${name}`);
    const generation = ++this.generation;
    for (let helper = 0; helper < parts.length - 1; helper++) {
      const slots = this.helperSlots(helper);
      slots[2] = index;
      slots.fill(0, 3);
      slots.set(parts[helper + 1]!, 3);
      Atomics.store(slots, 0, generation);
      Atomics.notify(slots, 0);
    }
    let failure: unknown = null;
    try {
      if (parts.length > 0) this.functions[name]!(...parts[0]!);
    } catch (error) {
      failure = error;
    }
    // Even when this thread's part failed: the caller may free the output once run() returns.
    for (let helper = 0; helper < parts.length - 1; helper++) this.await(helper, generation);
    if (failure) this.fail(`kernel pool: ${name} failed on the calling thread (${(failure as Error).message})`);
  }

  /** Ends the helpers; later calls throw. */
  async stop(): Promise<void> {
    if (!this.broken) this.broken = new Error('the kernel pool was stopped');
    for (let helper = 0; helper < this.helpers.length; helper++) {
      const slots = this.helperSlots(helper);
      Atomics.store(slots, 0, -1);
      Atomics.notify(slots, 0);
    }
    await Promise.all(this.helpers.map((worker) => worker.terminate()));
  }

  private helperSlots(helper: number): Int32Array {
    return this.slots.subarray(helper * SLOTS, (helper + 1) * SLOTS);
  }

  private await(helper: number, generation: number): void {
    const slots = this.helperSlots(helper);
    const deadline = performance.now() + HELPER_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(slots, 1);
      if (done === generation) return;
      if (done === -generation) return this.fail(`kernel pool helper ${helper} failed`);
      const left = deadline - performance.now();
      if (left <= 0) return this.fail(`kernel pool helper ${helper} did not answer within ${HELPER_TIMEOUT_MS} ms`);
      Atomics.wait(slots, 1, done, left);
    }
  }

  private fail(message: string): never {
    this.broken = new Error(message);
    void this.stop();
    throw this.broken;
  }
}
