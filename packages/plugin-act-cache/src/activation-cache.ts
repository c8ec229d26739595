import { DiskStore } from './disk-store.js';
import { MemoryStore } from './memory-store.js';
import type { ActCacheOptions } from './options.js';
import { RowCodec } from './row-codec.js';

/** Rows of a batch read from the cache: `found[i]` says whether row i was served. */
export interface CachedBatch {
  readonly boundary: number;
  readonly shape: number[];
  readonly data: Float32Array;
  readonly found: boolean[];
}

/**
 * Per-sample activations at each boundary, in memory up to the budget and on disk beyond it (as the
 * `store` option allows). Knows nothing of trainers or tensors: rows in, rows out.
 */
export class ActivationCache {
  readonly memory: MemoryStore;
  private diskStore: DiskStore | null = null;
  private readonly codecs = new Map<number, { codec: RowCodec; shape: number[] }>();
  /** Rows refused because no store allowed them (memory full and no disk). */
  rejected = 0;

  constructor(
    private readonly options: Pick<ActCacheOptions, 'store' | 'memoryBudgetBytes' | 'precision'>,
    private readonly directory: () => string,
  ) {
    this.memory = new MemoryStore(options.store === 'disk' ? 0 : options.memoryBudgetBytes);
  }

  get disk(): DiskStore | null {
    return this.diskStore;
  }

  has(boundary: number, id: number): boolean {
    return this.memory.has(boundary, id) || (this.diskStore?.has(boundary, id) ?? false);
  }

  holdsAll(boundary: number, ids: Int32Array): boolean {
    if (!this.codecs.has(boundary)) return false;
    for (const id of ids) if (!this.has(boundary, id)) return false;
    return true;
  }

  /** Boundaries that hold at least one row, deepest first. */
  boundaries(): number[] {
    const all = new Set([...this.memory.boundaries(), ...(this.diskStore?.boundaries() ?? [])]);
    return [...all].sort((a, b) => b - a);
  }

  /** The deepest boundary ≤ `limit` that holds every id, or null. */
  deepestHolding(ids: Int32Array, limit: number): number | null {
    for (const boundary of this.boundaries()) if (boundary <= limit && this.holdsAll(boundary, ids)) return boundary;
    return null;
  }

  async read(boundary: number, ids: Int32Array): Promise<CachedBatch> {
    const entry = this.codecs.get(boundary);
    if (!entry) throw new Error(`plugin-act-cache: nothing is cached at boundary ${boundary}`);
    const { codec, shape } = entry;
    const floats = ids.length * codec.rowLength;
    // Shared with the disk store's reader thread, which decodes its rows straight into it.
    const data = new Float32Array(this.diskStore ? new SharedArrayBuffer(floats * 4) : new ArrayBuffer(floats * 4));
    const found = Array.from(ids, () => false);
    const onDisk: number[] = [];
    ids.forEach((id, row) => {
      const bytes = this.memory.get(boundary, id);
      if (!bytes) return void onDisk.push(row);
      codec.decode(bytes, data, row);
      found[row] = true;
    });
    if (onDisk.length > 0 && this.diskStore) {
      const read = await this.diskStore.readBatch(boundary, ids, onDisk, codec, data);
      onDisk.forEach((row, i) => (found[row] = read[i]!));
    }
    return { boundary, shape, data, found };
  }

  /** Stores a batch of rows (row i belongs to ids[i]); where each goes is the store policy's call. */
  write(boundary: number, ids: Int32Array, data: Float32Array, shape: number[]): void {
    const rowLength = shape.reduce((product, size) => product * size, 1);
    let entry = this.codecs.get(boundary);
    if (!entry || entry.codec.rowLength !== rowLength) {
      if (entry) this.dropBoundary(boundary);
      entry = { codec: new RowCodec(rowLength, this.options.precision), shape: [...shape] };
      this.codecs.set(boundary, entry);
    }
    ids.forEach((id, row) => {
      const bytes = entry.codec.encode(data, row);
      if (this.options.store !== 'disk' && this.memory.put(boundary, id, bytes)) {
        this.diskStore?.delete(boundary, id);
        return;
      }
      if (this.options.store === 'memory') {
        this.rejected++;
        return;
      }
      this.memory.delete(boundary, id);
      void this.ensureDisk().put(boundary, id, bytes);
    });
  }

  delete(boundary: number, ids: Int32Array): void {
    for (const id of ids) {
      this.memory.delete(boundary, id);
      this.diskStore?.delete(boundary, id);
    }
  }

  dropBoundary(boundary: number): void {
    this.memory.dropBoundary(boundary);
    void this.diskStore?.dropBoundary(boundary);
    this.codecs.delete(boundary);
  }

  /** Drops every boundary deeper than `boundary` (after an unfreeze). */
  dropAbove(boundary: number): void {
    for (const known of [...this.codecs.keys()]) if (known > boundary) this.dropBoundary(known);
  }

  /** Row shapes per boundary, for checkpoints. */
  get layout(): Record<string, number[]> {
    return Object.fromEntries([...this.codecs].map(([boundary, entry]) => [String(boundary), entry.shape]));
  }

  restoreLayout(layout: Record<string, number[]>): void {
    for (const [key, shape] of Object.entries(layout)) {
      const rowLength = shape.reduce((product, size) => product * size, 1);
      this.codecs.set(Number(key), { codec: new RowCodec(rowLength, this.options.precision), shape: [...shape] });
    }
  }

  ensureDisk(): DiskStore {
    this.diskStore ??= new DiskStore(this.directory());
    return this.diskStore;
  }

  async close(removeFiles: boolean): Promise<void> {
    this.memory.clear();
    await this.diskStore?.close(removeFiles);
  }
}
