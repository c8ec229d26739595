// The stage workers as the training thread sees them: started with a channel between each pair of
// neighbours, one exchange (a profile, a step) at a time, and every way a worker can fail — an error
// it reports, an uncaught error, an exit, silence past the timeout — turned into one error in the
// training thread, after which every worker is ended. Never a hang.
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { BackendChoice } from '@trainhooks/backend';
import type { FromStage, ToStage } from './stage-protocol.js';

export interface StageThreadsConfig {
  readonly stages: number;
  readonly topology: object;
  readonly unitCount: number;
  readonly backend: BackendChoice;
  readonly threads: number;
  readonly workerSetup: string | null;
  readonly startTimeoutMs: number;
}

type Handler = (stage: number, message: FromStage) => void;

interface Exchange {
  readonly handle: Handler;
  readonly reject: (error: Error) => void;
}

/**
 * A stage thread runs the worker module next to this one: .js/.cjs in dist. From source (.ts, in this
 * repository's tests and scripts) a worker's entry cannot be TypeScript even with `--import tsx`, so a
 * two-line bootstrap registers tsx in the thread first and then imports the module.
 */
function createStageWorker(stage: number): Worker {
  // workerData names the stage, for a workerSetup module that needs to know which one it runs in.
  const workerData = { stage };
  const here = typeof __filename === 'string' && isAbsolute(__filename) ? __filename : fileURLToPath(import.meta.url);
  const extension = extname(here);
  const filename = join(dirname(here), `stage-worker${extension}`);
  if (extension !== '.ts') return new Worker(filename, { workerData });
  // tsx's ESM api, found through its package.json (its CommonJS build mis-resolves from a worker).
  const manifest = createRequire(here).resolve('tsx/package.json');
  const api = join(dirname(manifest), (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default);
  const bootstrap = `import(${JSON.stringify(pathToFileURL(api).href)}).then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(filename).href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export class StageThreads {
  private readonly workers: Worker[] = [];
  private exchange: Exchange | null = null;
  private failure: Error | null = null;
  private ending = false;
  private exited = 0;

  private constructor() {}

  static async start(config: StageThreadsConfig): Promise<StageThreads> {
    const threads = new StageThreads();
    const channels = Array.from({ length: config.stages - 1 }, () => new MessageChannel());
    for (let stage = 0; stage < config.stages; stage++) {
      const worker = createStageWorker(stage);
      threads.workers.push(worker);
      worker.on('message', (message: FromStage) => threads.receive(stage, message));
      worker.on('error', (error) => threads.fail(new Error(`plugin-pipeline: stage ${stage} crashed: ${error.message}`)));
      worker.on('exit', (code) => {
        threads.exited++;
        if (!threads.ending) threads.fail(new Error(`plugin-pipeline: stage ${stage} exited (code ${code})`));
      });
    }
    let ready = 0;
    await threads.run('start', config.startTimeoutMs, () => `${config.stages - ready} stage(s) not started`, (_, message, finish) => {
      if (message.type === 'ready' && ++ready === config.stages) finish(undefined);
    }, () => {
      threads.workers.forEach((worker, stage) => {
        const previous = stage > 0 ? channels[stage - 1]!.port2 : null;
        const next = stage < config.stages - 1 ? channels[stage]!.port1 : null;
        const init: ToStage = { type: 'init', stage, topology: config.topology, unitCount: config.unitCount, backend: config.backend, threads: config.threads, workerSetup: config.workerSetup, previous, next };
        worker.postMessage(init, [previous, next].filter((port) => port !== null));
      });
    });
    return threads;
  }

  get count(): number {
    return this.workers.length;
  }

  /** Workers that have not exited yet. */
  get running(): number {
    return this.workers.length - this.exited;
  }

  /** Set once a stage failed; the threads are gone then. */
  get broken(): Error | null {
    return this.failure;
  }

  post(stage: number, message: ToStage, transfer: ArrayBuffer[] = []): void {
    this.workers[stage]!.postMessage(message, transfer);
  }

  /**
   * One exchange: `send` posts the requests, `handle` sees every reply and calls finish when all
   * are in. Rejects when a stage fails or `timeoutMs` pass (naming what is missing via `waitingFor`).
   */
  run<T>(label: string, timeoutMs: number, waitingFor: () => string, handle: (stage: number, message: FromStage, finish: (value: T) => void) => void, send: () => void): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.exchange) return Promise.reject(new Error(`plugin-pipeline: ${label} started while another exchange runs`));
    // Referenced only while waiting for them: between steps the workers do not keep a script alive.
    for (const worker of this.workers) worker.ref();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`plugin-pipeline: ${label}: no answer within ${timeoutMs} ms (${waitingFor()})`)), timeoutMs);
      const end = () => {
        clearTimeout(timer);
        this.exchange = null;
        for (const worker of this.workers) worker.unref();
      };
      const finish = (value: T) => {
        end();
        resolve(value);
      };
      this.exchange = {
        handle: (stage, message) => handle(stage, message, finish),
        reject: (error) => {
          end();
          reject(error);
        },
      };
      try {
        send();
      } catch (error) {
        this.exchange.reject(error as Error);
      }
    });
  }

  private receive(stage: number, message: FromStage): void {
    if (message.type === 'error') {
      this.fail(new Error(`plugin-pipeline: stage ${stage} failed: ${message.message}`));
      return;
    }
    try {
      this.exchange?.handle(stage, message);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** The first failure ends every worker and the exchange under way. */
  private fail(error: Error): void {
    if (this.failure || this.ending) return;
    this.failure = error;
    this.exchange?.reject(error);
    void this.terminate();
  }

  async terminate(): Promise<void> {
    this.ending = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
