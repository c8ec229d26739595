/** Bookkeeping each entry costs beyond its bytes (Map slot, key, typed-array header), counted in the budget. */
export const MEMORY_ENTRY_OVERHEAD_BYTES = 96;

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

  clear(): void {
    this.rows.clear();
    this.used = 0;
  }
}
