import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HookStage, runUnits, Telemetry, type LatencySummary, type StepContext, type Trainer, type PluginDescription, type StatefulPlugin } from '@trainhooks/core-hooks/internal';
import { ActivationCache, type CachedBatch } from './activation-cache.js';
import type { DiskIndex } from './disk-store.js';
import { resolveActCacheOptions, type ActCacheOptions } from './options.js';
import type { MemoryRows } from './memory-store.js';
import { ServingMonitor, type ServingVerdict } from './serving-monitor.js';

export interface CacheHitEvent {
  readonly step: number;
  /** The frozen prefix: where the trained part of the forward starts. */
  readonly boundary: number;
  /** The boundary the rows were read at; < boundary when they were advanced through newly frozen units. */
  readonly from: number;
  readonly rows: number;
  /** Rows that were not cached and went through the prefix on their own before the step (partial hit). */
  readonly computedRows: number;
  /** Rows cached at a shallower boundary that went through the units since on their own before the step (partial hit). */
  readonly advancedRows: number;
}

export interface CacheMissEvent {
  readonly step: number;
  readonly boundary: number;
  readonly rows: number;
  /** 'absent': no row of the batch was cached; 'partial': some were; 'corrupt': a disk record failed its check. */
  readonly reason: 'absent' | 'partial' | 'corrupt';
}

/** A boundary the cache stopped serving: serving it saved less than `minSaving` of a step. */
export interface CacheBypassEvent extends ServingVerdict {
  readonly step: number;
}

declare module '@trainhooks/core-hooks' {
  interface TrainerEventMap {
    cacheHit: CacheHitEvent;
    cacheMiss: CacheMissEvent;
    cacheBypass: CacheBypassEvent;
  }
}

export interface ActCacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Batches served from the cache over batches that had a frozen prefix. */
  readonly hitRate: number;
  /** Batches whose rows were advanced from a shallower boundary. */
  readonly advanced: number;
  /** Batches served partly from the cache, the missing rows computed on their own. */
  readonly partial: number;
  readonly memory: { readonly bytes: number; readonly entries: number; readonly budgetBytes: number };
  readonly disk: { readonly bytes: number; readonly entries: number; readonly directory: string | null; readonly corruptReads: number };
  /** Rows no store took (memory full with store: 'memory'). */
  readonly rejectedRows: number;
  /** Time a step waited for its rows (prefetched or not), µs. */
  readonly wait: LatencySummary | null;
  /** Step time from the cache decision to the step's end, µs: batches served vs batches that ran the prefix. */
  readonly hitStep: LatencySummary | null;
  readonly missStep: LatencySummary | null;
  /** Estimate: (mean miss step − mean hit step) × hits, in ms. */
  readonly forwardMsSaved: number;
  /** Boundaries no longer served because serving them did not pay, with the timings and the reason. */
  readonly bypassed: readonly ServingVerdict[];
  /** Steps that computed a bypassed boundary's prefix instead of serving it. */
  readonly bypassedSteps: number;
}

/**
 * What a checkpoint holds of the cache (stateVersion 2): its layout, the disk store's index (its rows
 * stay in their folder) and, with `checkpointRows`, the memory store's rows; rows it lacks are
 * recomputed as batches miss.
 */
export interface ActCacheState {
  readonly boundary: number;
  readonly layout: Record<string, number[]>;
  readonly precision: 'fp32' | 'fp16';
  readonly directory: string | null;
  /** The writer's `keep`: a kept folder belongs to the checkpoint, a temporary one to whoever ends last. */
  readonly keep: boolean;
  readonly disk: DiskIndex | null;
  readonly memoryRows: readonly MemoryRows[];
  readonly counters: Record<string, number>;
}

interface PendingStore {
  readonly boundary: number;
  readonly ids: Int32Array;
  /** The shallower boundary the rows were advanced from, to forget there once stored here. */
  readonly from: number | null;
}

/**
 * Caches each sample's activation at the frozen prefix's boundary and, when a whole batch is cached,
 * starts the forward pass there with the cached tensor: the prefix's forward is skipped. Works with any
 * plugin (or user schedule) that sets the frozen prefix; it reads `context.frozenPrefix` at
 * `HookStage.CACHE` and sets `context.forwardStart`.
 */
export class ActCachePlugin implements StatefulPlugin<ActCacheState> {
  readonly name = 'ActCachePlugin';
  readonly stateKey = 'act-cache';
  readonly stateVersion = 2;
  readonly options: ActCacheOptions;
  readonly cache: ActivationCache;
  private readonly telemetry = new Telemetry();
  private trainer: Trainer | null = null;
  private directory: string | null = null;
  /** The disk folder came from a checkpoint's run that kept it: it is that checkpoint's, never removed here. */
  private adoptedDirectory = false;
  private boundary = 0;
  private input: tf.Tensor | null = null;
  private pending: PendingStore | null = null;
  private prefetched: { ids: Int32Array; boundary: number; rows: Promise<CachedBatch> } | null = null;
  private decidedAt = 0;
  private served = false;
  /** What this step timed for the serving monitor: a whole batch served, the prefix computed, or neither. */
  private stepKind: 'served' | 'computed' | null = null;
  private readonly serving: ServingMonitor;

  constructor(options: Partial<ActCacheOptions> = {}) {
    this.options = resolveActCacheOptions(options);
    if (!this.options.deterministicInputs) {
      throw new Error(
        'plugin-act-cache: a cached activation is only right if a sample reaches the frozen prefix the same way every epoch. ' +
          'Pass { deterministicInputs: true } when no random augmentation (or other per-epoch change) happens before the frozen prefix; ' +
          'with random augmentation, do not use the activation cache.',
      );
    }
    this.cache = new ActivationCache(this.options, () => this.storeDirectory());
    this.serving = new ServingMonitor({ minSaving: this.options.minSaving, window: this.options.savingWindow });
  }

  apply(trainer: Trainer): void {
    this.trainer = trainer;
    trainer.hooks.beforeForward.tapPromise({ name: this.name, stage: HookStage.CACHE }, (context) => this.beforeForward(context));
    trainer.hooks.afterStep.tapPromise({ name: this.name, stage: HookStage.DEFAULT }, (context) => this.afterStep(context));
    trainer.hooks.stepFailed.tap(this.name, () => this.release());
    trainer.hooks.teardown.tapPromise(this.name, () => this.dispose());
  }

  private storeDirectory(): string {
    if (!this.directory) {
      const parent = this.options.directory ?? tmpdir();
      this.directory = mkdtempSync(join(parent, 'trainhooks-act-cache-'));
    }
    return this.directory;
  }

  private async beforeForward(context: StepContext): Promise<void> {
    await this.decide(context);
    this.prefetchNext(context);
  }

  private async decide(context: StepContext): Promise<void> {
    const boundary = context.frozenPrefix;
    // Unfrozen units train again: what was cached beyond them is stale.
    if (boundary < this.boundary) this.cache.dropAbove(boundary);
    this.boundary = boundary;
    this.decidedAt = performance.now();
    this.served = false;
    this.stepKind = null;
    if (boundary === 0 || context.forwardStart.unit !== 0) return; // nothing frozen, or another party decided
    if (this.serving.isBypassed(boundary)) return void this.telemetry.count('bypassedSteps');
    const ids = context.ids;
    if (!ids) {
      throw new Error(
        'plugin-act-cache: batches carry no sample ids, so cached activations cannot be matched to samples. ' +
          'Pass sampleIds to trainer.fit (row ids are used by default), give dataset elements an `ids` Int32Array, or pass ids to trainer.step.',
      );
    }
    const from = this.cache.deepestHolding(ids, boundary);
    if (from === null) {
      const depths = this.depthsOf(ids, boundary);
      const held = depths.some((depth) => depth > 0);
      if (!held || this.options.partialHits === 'whole-batch') return this.miss(context, boundary, ids, held ? 'partial' : 'absent');
      return this.partialHit(context, boundary, ids, depths);
    }

    const waitStart = performance.now();
    const rows = await this.rowsFor(ids, from);
    this.telemetry.record('wait', (performance.now() - waitStart) * 1000);
    if (!rows.found.every(Boolean)) return this.miss(context, boundary, ids, 'corrupt');

    this.serve(context, from, tf.tensor(rows.data, [ids.length, ...rows.shape]));
    if (from === boundary) this.stepKind = 'served';
    if (from < boundary) {
      // Advance: the newly frozen units from..boundary run on the cached rows, and their output is stored.
      this.pending = { boundary, ids: ids.slice(), from };
      this.telemetry.count('advanced');
    }
    this.trainer!.events.emit('cacheHit', { step: context.step, boundary, from, rows: ids.length, computedRows: 0, advancedRows: 0 });
  }

  private serve(context: StepContext, unit: number, input: tf.Tensor): void {
    this.input = input;
    context.forwardStart = { unit, input };
    this.served = true;
    this.telemetry.count('hits');
  }

  /**
   * Some rows are cached, not all at the boundary: each row starts from the deepest boundary that holds
   * it — the boundary itself (read), a shallower one the prefix has grown past (the units since run on
   * it, as when a whole batch advances), or none (the whole prefix runs on its input) — in inference
   * mode, before the step; the rows computed here are stored at the boundary (advanced ones leave the
   * shallower boundary), and the step starts at the boundary. Right after the prefix deepens nearly
   * every row is cached one boundary back, and only the newly frozen units run for the batch, not the
   * whole prefix; with a memory budget that holds part of the data set, shuffled batches are nearly
   * always partly cached. Cheaper than running the prefix for the whole batch by what the rows skip.
   */
  private async partialHit(context: StepContext, boundary: number, ids: Int32Array, depths: readonly number[]): Promise<void> {
    const waitStart = performance.now();
    const rowsAt = new Map<number, number[]>();
    depths.forEach((depth, row) => rowsAt.set(depth, [...(rowsAt.get(depth) ?? []), row]));
    // Read what each depth holds; a row whose record is not found (a disk record that failed its check) runs from the input.
    const fromInput = [...(rowsAt.get(0) ?? [])];
    const reads: Array<{ depth: number; requested: number[]; batch: CachedBatch }> = [];
    for (const [depth, rows] of rowsAt) {
      if (depth === 0) continue;
      const batch = await this.cache.read(depth, Int32Array.from(rows, (row) => ids[row]!));
      reads.push({ depth, requested: rows, batch });
      rows.forEach((row, i) => void (batch.found[i] || fromInput.push(row)));
    }
    this.telemetry.record('wait', (performance.now() - waitStart) * 1000);

    const units = this.trainer!.units;
    // Each group of rows through the units from where it was cached to the boundary (at the boundary: as read).
    const groups: Array<{ rows: number[]; data: Float32Array; shape: number[]; computed: boolean; from: number }> = [];
    for (const { depth, requested, batch } of reads) {
      const found = batch.found.flatMap((isFound, i) => (isFound ? [i] : []));
      if (found.length === 0) continue;
      const rows = found.map((i) => requested[i]!);
      const rowLength = batch.data.length / requested.length;
      const data = new Float32Array(rows.length * rowLength);
      found.forEach((i, k) => data.set(batch.data.subarray(i * rowLength, (i + 1) * rowLength), k * rowLength));
      if (depth === boundary) {
        groups.push({ rows, data, shape: batch.shape, computed: false, from: depth });
        continue;
      }
      const advanced = tf.tidy(() => runUnits(units, depth, boundary, tf.tensor(data, [rows.length, ...batch.shape]), { training: false }));
      groups.push({ rows, data: (await advanced.data()) as Float32Array, shape: advanced.shape.slice(1), computed: true, from: depth });
      advanced.dispose();
    }
    if (fromInput.length > 0) {
      const computed = tf.tidy(() => runUnits(units, 0, boundary, tf.gather(context.batch.x, tf.tensor1d(fromInput, 'int32')), { training: false }));
      groups.push({ rows: fromInput, data: (await computed.data()) as Float32Array, shape: computed.shape.slice(1), computed: true, from: 0 });
      computed.dispose();
    }

    const shape = groups[0]!.shape;
    const rowLength = shape.reduce((product, size) => product * size, 1);
    const batchData = new Float32Array(ids.length * rowLength);
    for (const group of groups) {
      group.rows.forEach((row, k) => batchData.set(group.data.subarray(k * rowLength, (k + 1) * rowLength), row * rowLength));
      if (!group.computed) continue;
      const groupIds = Int32Array.from(group.rows, (row) => ids[row]!);
      this.cache.write(boundary, groupIds, group.data, shape);
      if (group.from > 0) this.cache.delete(group.from, groupIds);
    }
    this.serve(context, boundary, tf.tensor(batchData, [ids.length, ...shape]));
    this.telemetry.count('partial');
    const advancedRows = groups.filter((group) => group.from > 0 && group.computed).reduce((sum, group) => sum + group.rows.length, 0);
    if (advancedRows > 0) this.telemetry.count('advanced');
    this.trainer!.events.emit('cacheHit', { step: context.step, boundary, from: boundary, rows: ids.length, computedRows: fromInput.length, advancedRows });
  }

  /** Per row, the deepest boundary up to `boundary` that holds it; 0 where none does (its input). */
  private depthsOf(ids: Int32Array, boundary: number): number[] {
    const boundaries = this.cache.boundaries().filter((known) => known <= boundary);
    return Array.from(ids, (id) => boundaries.find((known) => this.cache.has(known, id)) ?? 0);
  }

  private miss(context: StepContext, boundary: number, ids: Int32Array, reason: CacheMissEvent['reason']): void {
    // The prefix runs for the whole batch; its output (context.frozenOutput) is stored after the step.
    this.pending = { boundary, ids: ids.slice(), from: null };
    this.stepKind = 'computed';
    this.telemetry.count('misses');
    this.trainer!.events.emit('cacheMiss', { step: context.step, boundary, rows: ids.length, reason });
  }

  /** The prefetched rows when they are the ones asked for, else a read now. */
  private rowsFor(ids: Int32Array, boundary: number): Promise<CachedBatch> {
    const prefetched = this.prefetched;
    this.prefetched = null;
    this.cache.disk?.settleFinishedReads();
    if (prefetched && prefetched.boundary === boundary && sameIds(prefetched.ids, ids)) return prefetched.rows;
    return this.cache.read(boundary, ids);
  }

  private async afterStep(context: StepContext): Promise<void> {
    const stepMs = performance.now() - this.decidedAt;
    this.telemetry.record(this.served ? 'hitStep' : 'missStep', stepMs * 1000);
    let pending = this.pending;
    this.pending = null;
    if (this.stepKind !== null) {
      const verdict = this.serving.record(this.boundary, this.stepKind, stepMs);
      if (verdict) {
        // Computing this boundary is as cheap as serving it: stop storing and serving it, free its rows.
        pending = null;
        this.cache.dropBoundary(verdict.boundary);
        this.trainer!.events.emit('cacheBypass', { step: context.step, ...verdict });
      }
    }
    if (pending && context.frozenOutput && context.frozenPrefix === pending.boundary) {
      const output = context.frozenOutput;
      const data = (await output.data()) as Float32Array;
      this.cache.write(pending.boundary, pending.ids, data, output.shape.slice(1));
      if (pending.from !== null) this.cache.delete(pending.from, pending.ids);
    }
    this.release();
  }

  /**
   * Starts reading the next batch's rows (context.nextIds) as soon as this step's own are in hand, so
   * the reader thread works while this step computes; the next step awaits them at its decision.
   */
  private prefetchNext(context: StepContext): void {
    const next = context.nextIds;
    if (!this.options.prefetch || !next || context.frozenPrefix === 0) return;
    const from = this.cache.deepestHolding(next, context.frozenPrefix);
    if (from === null) return;
    const rows = this.cache.read(from, next);
    rows.catch(() => {}); // a prefetch nobody asks for must not become an unhandled rejection
    this.prefetched = { ids: next.slice(), boundary: from, rows };
  }

  private release(): void {
    this.input?.dispose();
    this.input = null;
  }

  /** The statistics, for reports (`trainer.reports()`). */
  report(): ActCacheStats {
    return this.stats();
  }

  /** How it speeds training, for reports. */
  describe(): PluginDescription {
    return { speedup: 'skips-work', communicates: false };
  }

  stats(): ActCacheStats {
    const { phases, counters } = this.telemetry.summary();
    const hits = counters.hits ?? 0;
    const misses = counters.misses ?? 0;
    const disk = this.cache.disk;
    const hitStep = phases.hitStep ?? null;
    const missStep = phases.missStep ?? null;
    return {
      hits,
      misses,
      hitRate: hits + misses > 0 ? hits / (hits + misses) : 0,
      advanced: counters.advanced ?? 0,
      partial: counters.partial ?? 0,
      memory: { bytes: this.cache.memory.bytes, entries: this.cache.memory.entries, budgetBytes: this.cache.memory.budgetBytes },
      disk: { bytes: disk?.bytes ?? 0, entries: disk?.entries ?? 0, directory: this.directory, corruptReads: disk?.corruptReads ?? 0 },
      rejectedRows: this.cache.rejected,
      wait: phases.wait ?? null,
      hitStep,
      missStep,
      forwardMsSaved: hitStep && missStep ? (Math.max(0, missStep.meanUs - hitStep.meanUs) * hits) / 1000 : 0,
      bypassed: this.serving.verdicts(),
      bypassedSteps: counters.bypassedSteps ?? 0,
    };
  }

  async exportState(): Promise<ActCacheState> {
    const disk = this.cache.disk ? await this.cache.disk.writeIndex() : null;
    return {
      boundary: this.boundary,
      layout: this.cache.layout,
      precision: this.options.precision,
      directory: this.directory,
      keep: this.options.keep || this.adoptedDirectory,
      disk,
      memoryRows: this.options.checkpointRows ? this.cache.memory.boundaries().map((boundary) => this.cache.memory.exportRows(boundary)) : [],
      counters: { ...this.telemetry.summary().counters },
    };
  }

  async importState(saved: ActCacheState): Promise<void> {
    this.boundary = saved.boundary;
    this.cache.restoreLayout(saved.layout);
    // The disk rows are reused when their files are still there (keep: true) and were written alike.
    if (saved.disk && saved.directory && saved.precision === this.options.precision && existsSync(saved.directory)) {
      this.directory = saved.directory;
      this.adoptedDirectory = saved.keep;
      await this.cache.ensureDisk().load(saved.disk);
    }
    if (saved.precision === this.options.precision && this.options.store !== 'disk') {
      for (const rows of saved.memoryRows) this.cache.memory.importRows(rows);
    }
    for (const [counter, value] of Object.entries(saved.counters)) this.telemetry.count(counter, value);
  }

  /**
   * Closes the disk store and removes its folder unless `keep`, or unless the folder came from a
   * checkpoint of a run that kept it (that checkpoint may be restored again: its rows stay until the
   * folder is deleted with it). A temporary folder a killed run left behind is removed by its resumer.
   */
  async dispose(): Promise<void> {
    this.release();
    this.prefetched = null;
    await this.cache.close(!this.options.keep && !this.adoptedDirectory);
  }
}

function sameIds(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `trainer.use(actCachePlugin({ deterministicInputs: true }))`. */
export function actCachePlugin(options?: Partial<ActCacheOptions>): ActCachePlugin {
  return new ActCachePlugin(options);
}
