import { Worker } from 'node:worker_threads';
import { DISK_READER_SOURCE, type ReadRequest, type ReadResponse } from './disk-reader-source.js';

/**
 * The training thread's side of the reader thread. The worker is referenced only while reads are in
 * flight, so an idle cache never keeps a process alive and a pending read never lets it exit early.
 */
export class DiskReader {
  private worker: Worker | null = null;
  private failed = false;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (found: Uint8Array) => void; found: Uint8Array; done: Int32Array }>();

  /** False when the reader thread could not start: callers read on the training thread instead. */
  get available(): boolean {
    return !this.failed;
  }

  read(request: Omit<ReadRequest, 'id' | 'found' | 'done'>): Promise<Uint8Array> {
    const worker = this.start();
    const id = this.nextId++;
    const found = new SharedArrayBuffer(request.records.length);
    const done = new SharedArrayBuffer(4);
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, found: new Uint8Array(found), done: new Int32Array(done) });
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ ...request, id, found, done } satisfies ReadRequest);
    });
  }

  /**
   * Settles every read the worker has finished, without waiting for its message: a training step is one
   * long synchronous stretch, and the message is only dispatched at the next event-loop turn.
   */
  settleFinished(): void {
    for (const [id, entry] of this.waiting) {
      if (Atomics.load(entry.done, 0) === 1) this.settle(id);
    }
  }

  private settle(id: number): void {
    const entry = this.waiting.get(id);
    if (!entry) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker?.unref();
    entry.resolve(entry.found);
  }

  /** The worker closes its descriptor of a file that is about to be removed. */
  forget(path: string): void {
    this.worker?.postMessage({ close: path });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    for (const entry of this.waiting.values()) entry.resolve(new Uint8Array(0));
    this.waiting.clear();
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(DISK_READER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (response: ReadResponse) => this.settle(response.id));
    worker.on('error', () => {
      // Every read in flight becomes a miss, and later reads happen on the training thread.
      this.failed = true;
      for (const entry of this.waiting.values()) entry.resolve(new Uint8Array(0));
      this.waiting.clear();
      this.worker = null;
    });
    this.worker = worker;
    return worker;
  }
}
