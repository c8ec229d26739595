import { mkdirSync } from 'node:fs';
import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DiskReader } from './disk-reader.js';
import type { RowCodec } from './row-codec.js';

/** Each record: crc32 of the rest (u32), the sample id (i32), then the encoded row. */
export const RECORD_HEADER_BYTES = 8;

interface BoundaryFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly rowBytes: number;
  /** id → record slot; only records whose write completed. */
  readonly slots: Map<number, number>;
  readonly freeSlots: number[];
  nextSlot: number;
}

/** What `index.json` holds: enough to reopen the files of a kept store. */
export interface DiskIndex {
  readonly version: 1;
  readonly boundaries: Record<string, { file: string; rowBytes: number; slots: Array<[id: number, slot: number]> }>;
}

/**
 * Rows on disk: one file per boundary of fixed-size records addressed by slot, written with positioned
 * I/O (libuv's thread pool) and read by the reader thread (DiskReader). A record whose crc32 or id does
 * not match, or that is cut short, reads as a miss — never as a wrong tensor.
 *
 * Writes are behind: a row is readable (from memory) from the moment it is put until its write has
 * landed. Training steps are long synchronous stretches in which the event loop takes no I/O
 * completions, so without this a row written at step t might not be on disk at step t + 1.
 */
export class DiskStore {
  private readonly files = new Map<number, BoundaryFile>();
  /** Rows put but not yet on disk, per boundary. */
  private readonly unwritten = new Map<number, Map<number, Uint8Array>>();
  private readonly opening = new Map<number, Promise<BoundaryFile>>();
  private readonly writes = new Set<Promise<void>>();
  /** Records that failed their check (corrupt or truncated). */
  corruptReads = 0;
  private generation = 0;
  /** Files named by a loaded index, by boundary. */
  private readonly loadedPaths = new Map<number, string>();
  private readonly reader = new DiskReader();

  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true });
  }

  /** Bytes on disk (records written). */
  get bytes(): number {
    let total = 0;
    for (const file of this.files.values()) total += file.slots.size * (file.rowBytes + RECORD_HEADER_BYTES);
    return total;
  }

  /** Rows held: on disk or on their way there. */
  get entries(): number {
    const ids = new Set<string>();
    for (const [boundary, file] of this.files) for (const id of file.slots.keys()) ids.add(`${boundary}:${id}`);
    for (const [boundary, rows] of this.unwritten) for (const id of rows.keys()) ids.add(`${boundary}:${id}`);
    return ids.size;
  }

  has(boundary: number, id: number): boolean {
    return (this.unwritten.get(boundary)?.has(id) ?? false) || (this.files.get(boundary)?.slots.has(id) ?? false);
  }

  boundaries(): number[] {
    const all = new Set<number>();
    for (const [boundary, file] of this.files) if (file.slots.size > 0) all.add(boundary);
    for (const [boundary, rows] of this.unwritten) if (rows.size > 0) all.add(boundary);
    return [...all];
  }

  /** Writes the row; until the write lands, reads are served from memory. */
  put(boundary: number, id: number, bytes: Uint8Array): Promise<void> {
    let rows = this.unwritten.get(boundary);
    if (!rows) {
      rows = new Map();
      this.unwritten.set(boundary, rows);
    }
    rows.set(id, bytes);
    const write = (async () => {
      const file = await this.file(boundary, bytes.byteLength, true);
      const slot = file.slots.get(id) ?? file.freeSlots.pop() ?? file.nextSlot++;
      file.slots.delete(id); // the old record is being overwritten
      const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bytes.byteLength);
      record.writeInt32LE(id, 4);
      record.set(bytes, RECORD_HEADER_BYTES);
      record.writeUInt32LE(crc32(record.subarray(4)), 0);
      await file.handle.write(record, 0, record.byteLength, slot * record.byteLength);
      if (rows.get(id) === bytes) {
        file.slots.set(id, slot);
        rows.delete(id);
      } else if (!rows.has(id)) {
        file.freeSlots.push(slot); // deleted while it was being written
      } else {
        file.slots.set(id, slot); // a newer row is on its way to the same slot
      }
    })();
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write)).catch(() => {});
    return write;
  }

  /**
   * Decodes the rows `rows` of a batch (`ids[row]` is each one's sample) into `into` (a buffer shared
   * with the reader thread) and says which were found. Rows not yet on disk come from memory; the rest
   * are read, checked and decoded by the reader thread. A record that fails its check is forgotten.
   */
  async readBatch(boundary: number, ids: Int32Array, rows: number[], codec: RowCodec, into: Float32Array): Promise<boolean[]> {
    const found = rows.map(() => false);
    const file = this.files.get(boundary);
    const unwritten = this.unwritten.get(boundary);
    const records: Array<{ row: number; slot: number; sample: number; index: number }> = [];
    rows.forEach((row, index) => {
      const sample = ids[row]!;
      const pending = unwritten?.get(sample);
      if (pending) {
        codec.decode(pending, into, row);
        found[index] = true;
        return;
      }
      const slot = file?.slots.get(sample);
      if (slot !== undefined) records.push({ row, slot, sample, index });
    });
    if (!file || records.length === 0) return found;
    if (!this.reader.available || !(into.buffer instanceof SharedArrayBuffer)) {
      for (const record of records) {
        const bytes = await this.get(boundary, record.sample);
        if (bytes) {
          codec.decode(bytes, into, record.row);
          found[record.index] = true;
        }
      }
      return found;
    }
    const read = await this.reader.read({
      path: file.path,
      rowBytes: file.rowBytes,
      rowLength: codec.rowLength,
      precision: codec.precision,
      records: records.map(({ row, slot, sample }) => ({ row, slot, sample })),
      target: into.buffer,
    });
    records.forEach((record, i) => {
      if (read[i] === 1) {
        found[record.index] = true;
        return;
      }
      this.forgetCorrupt(file, record.sample, record.slot);
    });
    return found;
  }

  /** A record that failed its check: counted, and its slot freed unless the row was rewritten meanwhile. */
  private forgetCorrupt(file: BoundaryFile, id: number, slot: number): void {
    this.corruptReads++;
    if (file.slots.get(id) !== slot) return;
    file.slots.delete(id);
    file.freeSlots.push(slot);
  }

  /**
   * The encoded row, or null when absent, corrupt or truncated (and then forgotten). The fallback of
   * readBatch; the reader thread (disk-reader-source.ts, eval'd, so it cannot import this) checks records
   * the same way.
   */
  async get(boundary: number, id: number): Promise<Uint8Array | null> {
    const unwritten = this.unwritten.get(boundary)?.get(id);
    if (unwritten) return unwritten;
    const file = this.files.get(boundary);
    const slot = file?.slots.get(id);
    if (!file || slot === undefined) return null;
    const recordBytes = RECORD_HEADER_BYTES + file.rowBytes;
    // Not zero-filled: only a read that filled it completely is used.
    const record = Buffer.allocUnsafe(recordBytes);
    // A read that fails (the boundary was dropped and its file closed meanwhile) is a miss like any other.
    const bytesRead = await file.handle.read(record, 0, recordBytes, slot * recordBytes).then(
      (result) => result.bytesRead,
      () => -1,
    );
    const intact = bytesRead === recordBytes && record.readInt32LE(4) === id && record.readUInt32LE(0) === crc32(record.subarray(4));
    if (!intact) {
      this.forgetCorrupt(file, id, slot);
      return null;
    }
    return new Uint8Array(record.buffer, record.byteOffset + RECORD_HEADER_BYTES, file.rowBytes);
  }

  delete(boundary: number, id: number): void {
    this.unwritten.get(boundary)?.delete(id);
    const file = this.files.get(boundary);
    const slot = file?.slots.get(id);
    if (!file || slot === undefined) return;
    file.slots.delete(id);
    file.freeSlots.push(slot);
  }

  /** Forgets the boundary at once; its file is closed and removed in the background. */
  async dropBoundary(boundary: number): Promise<void> {
    this.unwritten.delete(boundary);
    const opening = this.opening.get(boundary);
    this.files.delete(boundary);
    this.opening.delete(boundary);
    const file = await opening?.catch(() => undefined);
    if (!file) return;
    await this.flush();
    this.reader.forget(file.path);
    await file.handle.close().catch(() => {});
    await rm(file.path, { force: true });
  }

  /** Settles the reads the reader thread has finished (see DiskReader.settleFinished). */
  settleFinishedReads(): void {
    this.reader.settleFinished();
  }

  /** Waits for every write in flight. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  /** Writes index.json atomically (a temp file renamed over it), so a crash never leaves half an index. */
  async writeIndex(): Promise<DiskIndex> {
    await this.flush();
    const index: DiskIndex = {
      version: 1,
      boundaries: Object.fromEntries(
        [...this.files].map(([boundary, file]) => [String(boundary), { file: basename(file.path), rowBytes: file.rowBytes, slots: [...file.slots] }]),
      ),
    };
    const path = join(this.directory, 'index.json');
    await writeFile(`${path}.tmp`, JSON.stringify(index));
    await rename(`${path}.tmp`, path);
    return index;
  }

  /** Reopens the files an index describes (records are still checked on every read). */
  async load(index: DiskIndex): Promise<void> {
    for (const [key, saved] of Object.entries(index.boundaries)) {
      const boundary = Number(key);
      this.loadedPaths.set(boundary, join(this.directory, basename(saved.file)));
      const file = await this.file(boundary, saved.rowBytes, false);
      for (const [id, slot] of saved.slots) {
        file.slots.set(id, slot);
        file.nextSlot = Math.max(file.nextSlot, slot + 1);
      }
    }
  }

  async close(removeFiles: boolean): Promise<void> {
    await this.flush();
    await this.reader.close();
    await Promise.allSettled([...this.opening.values()]);
    for (const file of this.files.values()) await file.handle.close().catch(() => {});
    this.files.clear();
    this.opening.clear();
    if (removeFiles) await rm(this.directory, { recursive: true, force: true });
  }

  /** The boundary's file, opened once: created empty for a new store, reopened as it is for a loaded one. */
  private file(boundary: number, rowBytes: number, create: boolean): Promise<BoundaryFile> {
    const existing = this.files.get(boundary);
    if (existing) {
      if (existing.rowBytes !== rowBytes) throw new Error(`plugin-act-cache: boundary ${boundary} holds rows of ${existing.rowBytes} bytes, not ${rowBytes}`);
      return Promise.resolve(existing);
    }
    let opening = this.opening.get(boundary);
    if (!opening) {
      // A generation in the name: a boundary dropped and created again never shares a file with its old self.
      const path = create ? join(this.directory, `boundary-${boundary}-${this.generation++}.bin`) : this.loadedPaths.get(boundary)!;
      opening = open(path, create ? 'w+' : 'r+').then((handle) => {
        const file: BoundaryFile = { path, handle, rowBytes, slots: new Map(), freeSlots: [], nextSlot: 0 };
        this.files.set(boundary, file);
        return file;
      });
      this.opening.set(boundary, opening);
    }
    return opening;
  }
}
