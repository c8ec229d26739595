import { existsSync, openSync, readdirSync, closeSync, ftruncateSync, fstatSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, decodeHalf, encodeHalf, fromHalf, HookStage, toHalf, type Trainer, type Unit } from '@trainhooks/core-hooks/internal';
import {
  actCachePlugin,
  MEMORY_ENTRY_OVERHEAD_BYTES,
  ServingMonitor,
  type ActCacheOptions,
  type CacheBypassEvent,
  type CacheHitEvent,
  type CacheMissEvent,
} from '@trainhooks/plugin-act-cache/internal';
import { maxAbsDiff, throughCheckpointCodec, toyData, useCpu } from '../core-hooks/helpers.js';

beforeAll(useCpu);

const cleanup: Trainer[] = [];
afterEach(async () => {
  for (const trainer of cleanup.splice(0)) await trainer.dispose();
});

/** A raw-variable model of dense units whose calls are counted, so a test sees which units ran. */
function countedModel(seed: number, sizes = [8, 16, 16, 16, 3]) {
  const calls = sizes.slice(1).map(() => 0);
  const units: Unit[] = sizes.slice(1).map((size, index) => {
    const kernel = tf.variable(tf.randomNormal([sizes[index]!, size], 0, 0.4, 'float32', seed * 10 + index + 1), true, `k${seed}_${index}_${Math.random()}`);
    const bias = tf.variable(tf.zeros([size]), true, `b${seed}_${index}_${Math.random()}`);
    const last = index === sizes.length - 2;
    return {
      name: `dense${index}`,
      variables: [kernel, bias],
      apply(x: tf.Tensor) {
        calls[index]!++;
        const z = tf.add(tf.matMul(x as tf.Tensor2D, kernel), bias);
        return last ? tf.softmax(z) : tf.relu(z);
      },
    };
  });
  return { model: { units }, calls };
}

/** A user's own freezing schedule: the frozen prefix as a function of the step. */
function schedule(prefixAt: (step: number) => number) {
  return { apply: (trainer: Trainer) => trainer.hooks.beforeForward.tap({ name: 'schedule', stage: HookStage.FREEZE }, (context) => void (context.frozenPrefix = prefixAt(context.step))) };
}

function newTrainer(seed: number, prefixAt: (step: number) => number, cache: Partial<ActCacheOptions> | null) {
  const { model, calls } = countedModel(seed);
  const trainer = createTrainer(model, { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  trainer.use(schedule(prefixAt));
  const plugin = cache ? actCachePlugin({ deterministicInputs: true, ...cache }) : null;
  if (plugin) trainer.use(plugin);
  const events = { hits: [] as CacheHitEvent[], misses: [] as CacheMissEvent[] };
  trainer.events.on('cacheHit', (event) => void events.hits.push(event));
  trainer.events.on('cacheMiss', (event) => void events.misses.push(event));
  cleanup.push(trainer);
  return { trainer, plugin, calls, events };
}

const weightsOf = (trainer: Trainer) => trainer.variables.map((variable) => tf.clone(variable));

async function maxWeightDifference(a: Trainer, b: Trainer): Promise<number> {
  const [wa, wb] = [weightsOf(a), weightsOf(b)];
  const difference = Math.max(...wa.map((w, i) => maxAbsDiff(w, wb[i]!)));
  tf.dispose([...wa, ...wb]);
  return difference;
}

describe('half precision', () => {
  it('round-trips exactly representable values and rounds the rest within 2⁻¹¹ relative', () => {
    for (const value of [0, 1, -2, 0.5, 65504, 2 ** -14, 2 ** -24]) expect(fromHalf(toHalf(value))).toBe(value);
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
    expect(Number.isNaN(fromHalf(toHalf(Number.NaN)))).toBe(true);
    const values = Float32Array.from({ length: 10_000 }, (_, i) => Math.sin(i * 7.13) * 10 ** ((i % 9) - 4));
    const decoded = decodeHalf(encodeHalf(values), new Float32Array(values.length));
    values.forEach((value, i) => {
      if (Math.abs(value) >= 2 ** -14) expect(Math.abs(decoded[i]! - value)).toBeLessThanOrEqual(Math.abs(value) * 2 ** -11);
      else expect(Math.abs(decoded[i]! - value)).toBeLessThanOrEqual(2 ** -25);
    });
  });
});

describe('ActCachePlugin', () => {
  it('refuses to start without deterministicInputs, and explains the rule', () => {
    expect(() => actCachePlugin()).toThrow(/deterministicInputs: true.*no random augmentation/s);
    expect(() => actCachePlugin({ deterministicInputs: true, store: 'ram' as never })).toThrow(/option store must be 'memory', 'disk' or 'auto', got 'ram'/);
  });

  it('refuses batches without sample ids once something is frozen, saying how to pass them', async () => {
    const { trainer } = newTrainer(1, () => 1, {});
    const data = toyData(8, 8, 3);
    await expect(trainer.step({ x: data.x, y: data.y })).rejects.toThrow(/no sample ids.*sampleIds/s);
  });

  it.each([
    { label: 'memory, fp32', options: { store: 'memory' }, bound: 1e-5 },
    { label: 'disk, fp32', options: { store: 'disk' }, bound: 1e-5 },
    // fp16 rows carry ~3 significant digits; after 8 served steps the weights differed by 2.8e-5.
    { label: 'memory, fp16', options: { store: 'memory', precision: 'fp16' }, bound: 2e-4 },
    { label: 'disk, fp16', options: { store: 'disk', precision: 'fp16' }, bound: 2e-4 },
  ] as const)('gives the weights of the same run without a cache ($label, within $bound)', async ({ options, bound }) => {
    const data = toyData(32, 8, 3);
    const plain = newTrainer(2, () => 2, null);
    const cached = newTrainer(2, () => 2, options);
    for (const { trainer } of [plain, cached]) await trainer.fit(data.x, data.y, { epochs: 3, batchSize: 8, shuffle: false });
    expect(await maxWeightDifference(plain.trainer, cached.trainer)).toBeLessThanOrEqual(bound);
    // Epoch 1 fills the cache, epochs 2 and 3 are served from it: the prefix units never run again.
    expect(cached.events.misses).toHaveLength(4);
    expect(cached.events.hits).toHaveLength(8);
    expect(cached.calls.slice(0, 2)).toEqual([4, 4]);
    expect(plain.calls.slice(0, 2)).toEqual([12, 12]);
    const stats = cached.plugin!.stats();
    expect(stats.hitRate).toBeCloseTo(8 / 12);
    expect(stats[options.store === 'disk' ? 'disk' : 'memory'].entries).toBe(32);
  });

  it('a deeper boundary advances cached rows through the newly frozen units only; an unfreeze drops what lies beyond', async () => {
    const data = toyData(32, 8, 3);
    // Prefix 1 for epoch 1, then 3 (epochs 2–3), then back to 1 (epoch 4).
    const { trainer, plugin, calls, events } = newTrainer(3, (step) => (step < 4 ? 1 : step < 12 ? 3 : 1), {});
    await trainer.fit(data.x, data.y, { epochs: 1, batchSize: 8, shuffle: false });
    expect(plugin!.cache.boundaries()).toEqual([1]);
    const before = [...calls];
    await trainer.fit(data.x, data.y, { epochs: 3, initialEpoch: 1, batchSize: 8, shuffle: false });
    // Epoch 2 advanced the rows cached at boundary 1 through units 1–2; unit 0 never ran.
    expect(calls[0]! - before[0]!).toBe(0);
    expect(calls[1]! - before[1]!).toBe(4);
    expect(calls[2]! - before[2]!).toBe(4);
    expect(events.hits.slice(0, 4).map((event) => [event.boundary, event.from])).toEqual(Array(4).fill([3, 1]));
    expect(events.hits.slice(4).map((event) => event.from)).toEqual([3, 3, 3, 3]);
    // Advanced rows leave the shallower boundary: only boundary 3 holds rows now.
    expect(plugin!.cache.boundaries()).toEqual([3]);
    await trainer.fit(data.x, data.y, { epochs: 4, initialEpoch: 3, batchSize: 8, shuffle: false });
    expect(plugin!.cache.boundaries()).toEqual([1]);
    expect(events.misses.at(-1)!.boundary).toBe(1);
  });

  it('a batch cached at several depths: each row starts from the deepest boundary that holds it, and only the units after it run', async () => {
    const data = toyData(32, 8, 3);
    // Steps with rows of the data set as the batch (ids = rows), and the prefix each step freezes.
    const plan: Array<{ rows: number[]; prefix: number }> = [
      { rows: [0, 1, 2, 3], prefix: 1 }, // cached at boundary 1
      { rows: [4, 5], prefix: 2 }, // cached at boundary 2
      { rows: [0, 1, 2, 3, 4, 5, 6, 7], prefix: 2 }, // 0–3 advance from 1, 4–5 are read, 6–7 run the whole prefix
      { rows: [0, 1, 2, 3, 4, 5, 6, 7], prefix: 2 }, // every row at boundary 2 now: a whole hit
    ];
    const steps = plan.map(({ rows }) => {
      const index = tf.tensor1d(rows, 'int32');
      const batch = { x: tf.gather(data.x, index), y: tf.gather(data.y, index), ids: Int32Array.from(rows) };
      index.dispose();
      return batch;
    });
    const run = async (cache: Partial<ActCacheOptions> | null) => {
      const setup = newTrainer(7, (step) => plan[step]!.prefix, cache);
      const callsBefore: number[][] = [];
      for (const batch of steps) {
        callsBefore.push([...setup.calls]);
        await setup.trainer.step(batch);
      }
      return { ...setup, callsBefore };
    };
    const plain = await run(null);
    const cached = await run({ prefetch: false });
    expect(await maxWeightDifference(plain.trainer, cached.trainer)).toBeLessThanOrEqual(1e-5);
    const mixed = cached.events.hits.find((event) => event.step === 2)!;
    expect(mixed).toMatchObject({ boundary: 2, from: 2, rows: 8, advancedRows: 4, computedRows: 2 });
    // Before step 2: unit 0 ran once (rows 6–7), unit 1 twice (rows 0–3 from boundary 1, rows 6–7); the step itself started at unit 2.
    const ranAt = (step: number) => cached.callsBefore[step + 1]!.map((calls, unit) => calls - cached.callsBefore[step]![unit]!);
    expect(ranAt(2).slice(0, 3)).toEqual([1, 2, 1]);
    expect(cached.events.hits.at(-1)).toMatchObject({ step: 3, from: 2, advancedRows: 0, computedRows: 0 });
    expect(cached.plugin!.stats()).toMatchObject({ partial: 1, advanced: 1 });
    // Advanced rows left boundary 1; boundary 2 holds all eight.
    expect(cached.plugin!.cache.boundaries()).toEqual([2]);
    expect(cached.plugin!.stats().memory.entries).toBe(8);
    tf.dispose([data.x, data.y, ...steps.flatMap((batch) => [batch.x, batch.y])]);
  });

  it('a corrupt or truncated disk record is a miss and is recomputed, never a wrong tensor', async () => {
    const data = toyData(32, 8, 3);
    const plain = newTrainer(4, () => 2, null);
    const cached = newTrainer(4, () => 2, { store: 'disk', prefetch: false });
    await plain.trainer.fit(data.x, data.y, { epochs: 1, batchSize: 8, shuffle: false });
    await cached.trainer.fit(data.x, data.y, { epochs: 1, batchSize: 8, shuffle: false });
    await cached.plugin!.cache.disk!.flush();
    const directory = cached.plugin!.stats().disk.directory!;
    const file = join(directory, readdirSync(directory).find((name) => name.startsWith('boundary-2'))!);
    const descriptor = openSync(file, 'r+');
    const recordBytes = fstatSync(descriptor).size / 32;
    writeSync(descriptor, Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, 3 * recordBytes + 20); // sample 3: batch 0
    ftruncateSync(descriptor, 30 * recordBytes + 5); // samples 30, 31 cut: batch 3
    closeSync(descriptor);
    for (const { trainer } of [plain, cached]) await trainer.fit(data.x, data.y, { epochs: 3, initialEpoch: 1, batchSize: 8, shuffle: false });
    expect(cached.events.misses.filter((event) => event.reason === 'corrupt').map((event) => event.step)).toEqual([4, 7]);
    expect(cached.plugin!.stats().disk.corruptReads).toBeGreaterThanOrEqual(2);
    expect(await maxWeightDifference(plain.trainer, cached.trainer)).toBeLessThanOrEqual(1e-5);
    // Recomputed rows were stored again: the third epoch's batches 0 and 3 were served.
    expect(cached.events.hits.map((event) => event.step)).toContain(8);
    expect(cached.events.hits.map((event) => event.step)).toContain(11);
  });

  it('never exceeds the memory budget; store "memory" refuses what does not fit, "auto" spills it to disk; partly cached batches compute only their missing rows', async () => {
    const data = toyData(32, 8, 3);
    const rowBytes = 16 * 4 + MEMORY_ENTRY_OVERHEAD_BYTES; // boundary 2: 16 floats
    const budget = 20 * rowBytes; // rows 0–19 of 32
    const plain = newTrainer(5, () => 2, null);
    await plain.trainer.fit(data.x, data.y, { epochs: 3, batchSize: 8, shuffle: false });
    for (const store of ['memory', 'auto'] as const) {
      const { trainer, plugin, events, calls } = newTrainer(5, () => 2, { store, memoryBudgetBytes: budget, prefetch: false });
      let peak = 0;
      trainer.hooks.afterStep.tap({ name: 'watch', stage: HookStage.OBSERVE }, () => void (peak = Math.max(peak, plugin!.stats().memory.bytes)));
      await trainer.fit(data.x, data.y, { epochs: 3, batchSize: 8, shuffle: false });
      await plugin!.cache.disk?.flush();
      const stats = plugin!.stats();
      expect(peak).toBeLessThanOrEqual(budget);
      expect(stats.memory.entries).toBe(20);
      expect(await maxWeightDifference(plain.trainer, trainer)).toBeLessThanOrEqual(1e-5);
      if (store === 'memory') {
        expect(stats.rejectedRows).toBeGreaterThan(0);
        expect(stats.disk.entries).toBe(0);
        // Epochs 2 and 3: batches 0 and 1 cached, batch 2 half cached (rows 16–19), batch 3 not at all.
        expect(events.hits.map((event) => event.computedRows)).toEqual([0, 0, 4, 0, 0, 4]);
        expect(events.misses.map((event) => event.reason)).toEqual(['absent', 'absent', 'absent', 'absent', 'absent', 'absent']);
        // Unit 0 ran for 4 batches in epoch 1, then for the partly cached and the uncached batch of each later epoch.
        expect(calls[0]).toBe(4 + 2 * 2);
      } else {
        expect(stats.disk.entries).toBe(12);
        expect(events.hits).toHaveLength(8);
      }
    }
  });

  it("partialHits: 'whole-batch' runs the prefix for a partly cached batch", async () => {
    const data = toyData(32, 8, 3);
    const budget = 20 * (16 * 4 + MEMORY_ENTRY_OVERHEAD_BYTES);
    const { trainer, events } = newTrainer(5, () => 2, { store: 'memory', memoryBudgetBytes: budget, partialHits: 'whole-batch' });
    await trainer.fit(data.x, data.y, { epochs: 2, batchSize: 8, shuffle: false });
    expect(events.hits).toHaveLength(2);
    expect(events.misses.slice(4).map((event) => event.reason)).toEqual(['partial', 'absent']);
  });

  it.each(['memory', 'disk'] as const)('no tensor leaks over 300 steps (%s store, prefetching)', async (store) => {
    const data = toyData(64, 8, 3);
    const { trainer, events } = newTrainer(6, (step) => (step < 100 ? 1 : 2), { store });
    await trainer.fit(data.x, data.y, { epochs: 13, batchSize: 8 }); // 104 steps: both boundaries seen
    const tensors = tf.memory().numTensors;
    await trainer.fit(data.x, data.y, { epochs: 38, initialEpoch: 13, batchSize: 8 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(events.hits.length).toBeGreaterThan(250);
  });

  it('exportState → importState in a new trainer reuses a kept disk store, and leaves it to the checkpoint: a second restore is served too', async () => {
    const data = toyData(32, 8, 3);
    const first = newTrainer(7, () => 2, { store: 'disk', keep: true });
    await first.trainer.fit(data.x, data.y, { epochs: 1, batchSize: 8, shuffle: false });
    const state = throughCheckpointCodec(await first.trainer.exportState());
    const weights = first.trainer.variables.map((variable) => variable.dataSync().slice());
    const directory = first.plugin!.stats().disk.directory!;
    await first.trainer.dispose();
    cleanup.splice(cleanup.indexOf(first.trainer), 1);
    expect(existsSync(directory)).toBe(true); // keep: true

    for (const restore of [1, 2]) {
      const next = newTrainer(7, () => 2, { store: 'disk' });
      next.trainer.variables.forEach((variable, i) => variable.assign(tf.tensor(weights[i]!, variable.shape)));
      await next.trainer.importState(state);
      await next.trainer.fit(data.x, data.y, { epochs: 2, initialEpoch: 1, batchSize: 8, shuffle: false });
      expect(next.events.misses.map((event) => event.reason), `restore ${restore}`).toEqual([]);
      expect(next.calls.slice(0, 2)).toEqual([0, 0]);
      await next.trainer.dispose();
      cleanup.splice(cleanup.indexOf(next.trainer), 1);
      expect(existsSync(directory)).toBe(true); // the checkpoint's folder, not the restored plugin's
    }
    rmSync(directory, { recursive: true, force: true });
  });

  it.each([true, false])('checkpointRows: %s — the memory rows travel in the state (a warm cache) or are recomputed', async (checkpointRows) => {
    const data = toyData(32, 8, 3);
    const first = newTrainer(8, () => 2, { store: 'memory', checkpointRows });
    await first.trainer.fit(data.x, data.y, { epochs: 1, batchSize: 8, shuffle: false });
    const state = throughCheckpointCodec(await first.trainer.exportState());
    const weights = first.trainer.variables.map((variable) => variable.dataSync().slice());
    const entries = first.plugin!.stats().memory.entries;
    expect(entries).toBe(32);

    const second = newTrainer(8, () => 2, { store: 'memory', checkpointRows });
    second.trainer.variables.forEach((variable, i) => variable.assign(tf.tensor(weights[i]!, variable.shape)));
    await second.trainer.importState(state);
    expect(second.plugin!.stats().memory.entries).toBe(checkpointRows ? entries : 0);
    await second.trainer.fit(data.x, data.y, { epochs: 2, initialEpoch: 1, batchSize: 8, shuffle: false });
    expect(second.events.misses).toHaveLength(checkpointRows ? 0 : 4);
    // Served or recomputed, the same numbers: both trainers end alike.
    await first.trainer.fit(data.x, data.y, { epochs: 2, initialEpoch: 1, batchSize: 8, shuffle: false });
    expect(await maxWeightDifference(first.trainer, second.trainer)).toBe(0);
  });
});

describe('ServingMonitor: does serving a boundary pay?', () => {
  const monitor = () => new ServingMonitor({ minSaving: 0.1, window: 3 });

  it('judges a boundary once both kinds of step have a window, on their medians', () => {
    const m = monitor();
    for (const ms of [10, 10]) expect(m.record(2, 'computed', ms)).toBeNull();
    // One slow served step (a worker's evaluation, a GC) among fast ones does not decide.
    for (const ms of [9.5, 40]) expect(m.record(2, 'served', ms)).toBeNull();
    expect(m.record(2, 'computed', 10)).toBeNull();
    const verdict = m.record(2, 'served', 9.5);
    expect(verdict).toMatchObject({ boundary: 2, servedMs: 9.5, computedMs: 10 });
    expect(verdict!.saving).toBeCloseTo(0.05, 10);
    expect(verdict!.reason).toMatch(/^serving boundary 2 from the cache saves 5\.0 % of a step .* < minSaving 10\.0 %: the prefix is computed instead$/);
    expect(m.isBypassed(2)).toBe(true);
    expect(m.record(2, 'served', 1)).toBeNull(); // judged: no second verdict
    expect(m.verdicts()).toHaveLength(1);
  });

  it('keeps serving a boundary that saves at least minSaving, and judges each boundary on its own times', () => {
    const m = monitor();
    for (let i = 0; i < 3; i++) {
      m.record(1, 'computed', 10);
      m.record(1, 'served', 2);
      m.record(3, 'computed', 10);
    }
    expect(m.isBypassed(1)).toBe(false);
    expect(m.isBypassed(3)).toBe(false); // no served step timed yet
    expect(m.verdicts()).toEqual([]);
  });
});

describe('ActCachePlugin: a boundary that does not pay is computed, not served', () => {
  it('stops serving it after the window, says why in an event and its stats, frees its rows, and trains the same', async () => {
    const data = toyData(32, 8, 3);
    // minSaving 0.99: no served step is 100× cheaper than computing two small dense units, so the verdict is certain.
    const plain = newTrainer(4, () => 2, null);
    const cached = newTrainer(4, () => 2, { store: 'memory', minSaving: 0.99, savingWindow: 4 });
    const bypasses: CacheBypassEvent[] = [];
    cached.trainer.events.on('cacheBypass', (event) => void bypasses.push(event));
    for (const { trainer } of [plain, cached]) await trainer.fit(data.x, data.y, { epochs: 4, batchSize: 8, shuffle: false });
    // Epoch 1: 4 computed steps (the fill); epoch 2: 4 served steps → judged at step 8; epochs 3–4 compute.
    expect(bypasses).toHaveLength(1);
    expect(bypasses[0]).toMatchObject({ step: 7, boundary: 2 });
    expect(bypasses[0]!.reason).toMatch(/< minSaving 99\.0 %: the prefix is computed instead/);
    expect(cached.events.hits).toHaveLength(4);
    const stats = cached.plugin!.stats();
    expect(stats.bypassed).toEqual([expect.objectContaining({ boundary: 2 })]);
    expect(stats.bypassedSteps).toBe(8);
    expect(stats.memory.entries).toBe(0);
    expect(cached.calls.slice(0, 2)).toEqual([12, 12]);
    expect(await maxWeightDifference(plain.trainer, cached.trainer)).toBeLessThanOrEqual(1e-5);
  });

  it('checks minSaving and savingWindow', () => {
    expect(() => actCachePlugin({ deterministicInputs: true, minSaving: 1 })).toThrow(/minSaving.*\[0, 1\)/);
    expect(() => actCachePlugin({ deterministicInputs: true, savingWindow: 0 })).toThrow(/savingWindow.*integer ≥ 1/);
  });
});
