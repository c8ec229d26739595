// The Worker class the threaded tfjs-backend-wasm glue gets in Node. The glue was written for
// browsers and breaks in Node in three places, all fixed here from outside the package:
// - it hands `new Worker()` a blob: URL of the pthread script, which worker_threads cannot load:
//   we start the script from its source (the package ships it as a string) with `eval: true`;
// - it sends each worker the main script as a Blob whose source refers to bundler-scope names of
//   tfjs' dist file (require$$0, commonjsGlobal, …): we send the path of the package's standalone
//   copy of that script instead (wasm-out/tfjs-backend-wasm-threaded-simd.js), which needs none;
// - its workers keep the process alive: once the backend is up they are unref'd, and stay so, so a
//   script that ends normally exits (the main thread waits for them only inside wasm calls).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';

export interface PthreadWorkerFiles {
  /** Source of the pthread worker script. */
  readonly workerSource: string;
  /** Path of the standalone main script each worker loads. */
  readonly mainScript: string;
}

/** The files of the installed tfjs-backend-wasm. */
export function pthreadWorkerFiles(): PthreadWorkerFiles {
  const here = typeof __filename === 'string' ? __filename : import.meta.url;
  const require = createRequire(here);
  const wasmOut = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const { wasmWorkerContents } = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // The source is a template string in that file: its "\n" escapes became real newlines inside
  // string literals; tfjs escapes them back the same way before making its Blob.
  return { workerSource: wasmWorkerContents.replace(/\n/g, '\\n'), mainScript: join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js') };
}

export interface PthreadWorkerPool {
  /** The class to install as the global Worker the glue uses. */
  readonly WorkerClass: typeof NodeWorker;
  /** Workers alive now. */
  readonly workers: ReadonlySet<NodeWorker>;
  /** Resolves to the first error a worker raised (a worker that cannot start). */
  readonly failed: Promise<unknown>;
  /** The backend is up: unref every worker, now and later. */
  settle(): void;
  terminateAll(): Promise<void>;
}

export function createPthreadWorkerPool(files: PthreadWorkerFiles): PthreadWorkerPool {
  const workers = new Set<NodeWorker>();
  let settled = false;
  let reportFailure: (error: unknown) => void = () => {};
  const failed = new Promise<unknown>((resolve) => (reportFailure = resolve));

  class PthreadWorker extends NodeWorker {
    constructor(_url: string | URL, options?: WorkerOptions) {
      super(files.workerSource, { ...options, eval: true });
      workers.add(this);
      super.on('exit', () => workers.delete(this));
      // First listener: a worker that cannot start fails the threaded start instead of the process.
      super.on('error', (error) => reportFailure(error));
      if (settled) this.unref();
    }

    // The glue rethrows worker errors from its listener; here they are already reported above.
    override on(event: string | symbol, listener: (...args: any[]) => void): this {
      if (event !== 'error') return super.on(event, listener);
      return super.on(event, (...args: unknown[]) => {
        try {
          listener(...args);
        } catch {
          // reported through `failed`
        }
      });
    }

    override ref(): void {
      if (!settled) super.ref();
    }

    override postMessage(message: any, transfer?: readonly any[]): void {
      const loadsBlob = message?.cmd === 'load' && typeof message.urlOrBlob !== 'string';
      super.postMessage(loadsBlob ? { ...message, urlOrBlob: files.mainScript } : message, transfer as never);
    }
  }

  return {
    WorkerClass: PthreadWorker,
    workers,
    failed,
    settle: () => {
      settled = true;
      for (const worker of workers) worker.unref();
    },
    terminateAll: async () => {
      await Promise.all([...workers].map((worker) => worker.terminate()));
    },
  };
}
