/** Bookkeeping each entry costs beyond its bytes (Map slot, key, typed-array header), counted in the budget. */
export const MEMORY_ENTRY_OVERHEAD_BYTES = 96;

/** One boundary's encoded rows, `rowBytes` each, in the order of `ids`. */
export interface MemoryRows {
  readonly boundary: number;
  readonly ids: Int32Array;
  readonly rowBytes: number;
  readonly bytes: Uint8Array;
}

/** Encoded rows in memory, per boundary and sample id, within a byte budget it never exceeds. */
export class MemoryStore {
  private readonly rows = new Map<number, Map<number, Uint8Array>>();
  private used = 0;

  constructor(readonly budgetBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  get entries(): number {
    let count = 0;
    for (const rows of this.rows.values()) count += rows.size;
    return count;
  }

  has(boundary: number, id: number): boolean {
    return this.rows.get(boundary)?.has(id) ?? false;
  }

  get(boundary: number, id: number): Uint8Array | undefined {
    return this.rows.get(boundary)?.get(id);
  }

  /** Stores the row if it fits the budget; false when it does not (nothing is evicted). */
  put(boundary: number, id: number, bytes: Uint8Array): boolean {
    let rows = this.rows.get(boundary);
    const previous = rows?.get(id);
    const cost = bytes.byteLength + MEMORY_ENTRY_OVERHEAD_BYTES;
    const freed = previous ? previous.byteLength + MEMORY_ENTRY_OVERHEAD_BYTES : 0;
    if (this.used - freed + cost > this.budgetBytes) return false;
    if (!rows) {
      rows = new Map();
      this.rows.set(boundary, rows);
    }
    rows.set(id, bytes);
    this.used += cost - freed;
    return true;
  }

  delete(boundary: number, id: number): void {
    const rows = this.rows.get(boundary);
    const bytes = rows?.get(id);
    if (!rows || !bytes) return;
    rows.delete(id);
    this.used -= bytes.byteLength + MEMORY_ENTRY_OVERHEAD_BYTES;
  }

  dropBoundary(boundary: number): void {
    const rows = this.rows.get(boundary);
    if (!rows) return;
    for (const bytes of rows.values()) this.used -= bytes.byteLength + MEMORY_ENTRY_OVERHEAD_BYTES;
    this.rows.delete(boundary);
  }

  boundaries(): number[] {
    return [...this.rows.keys()].filter((boundary) => this.rows.get(boundary)!.size > 0);
  }

  /** A boundary's rows as one block (rows of a boundary are equally long), for checkpoints. */
  exportRows(boundary: number): MemoryRows {
    const rows = this.rows.get(boundary) ?? new Map<number, Uint8Array>();
    const rowBytes = rows.size > 0 ? rows.values().next().value!.byteLength : 0;
    const ids = Int32Array.from(rows.keys());
    const bytes = new Uint8Array(ids.length * rowBytes);
    let offset = 0;
    for (const row of rows.values()) {
      bytes.set(row, offset);
      offset += rowBytes;
    }
    return { boundary, ids, rowBytes, bytes };
  }

  /** Puts back rows `exportRows` gave, as far as the budget allows; returns how many fit. */
  importRows({ boundary, ids, rowBytes, bytes }: MemoryRows): number {
    let stored = 0;
    ids.forEach((id, i) => void (this.put(boundary, id, bytes.slice(i * rowBytes, (i + 1) * rowBytes)) && stored++));
    return stored;
  }

  clear(): void {
    this.rows.clear();
    this.used = 0;
  }
}
