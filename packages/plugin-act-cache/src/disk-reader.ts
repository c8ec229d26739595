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
  private readonly waiting = new Map<number, (found: Uint8Array) => void>();

  /** False when the reader thread could not start: callers read on the training thread instead. */
  get available(): boolean {
    return !this.failed;
  }

  read(request: Omit<ReadRequest, 'id'>): Promise<Uint8Array> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ ...request, id } satisfies ReadRequest);
    });
  }

  /** The worker closes its descriptor of a file that is about to be removed. */
  forget(path: string): void {
    this.worker?.postMessage({ close: path });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    for (const resolve of this.waiting.values()) resolve(new Uint8Array(0));
    this.waiting.clear();
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(DISK_READER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (response: ReadResponse) => {
      const resolve = this.waiting.get(response.id);
      this.waiting.delete(response.id);
      if (this.waiting.size === 0) worker.unref();
      resolve?.(response.found);
    });
    worker.on('error', () => {
      // Every read in flight becomes a miss, and later reads happen on the training thread.
      this.failed = true;
      for (const resolve of this.waiting.values()) resolve(new Uint8Array(0));
      this.waiting.clear();
      this.worker = null;
    });
    this.worker = worker;
    return worker;
  }
}
