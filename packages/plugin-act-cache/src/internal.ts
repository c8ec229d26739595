// @trainhooks/plugin-act-cache/internal — UNSTABLE. The public API plus the cache, its stores, the row
// codec and the serving monitor, for tests.
export * from './index.js';
export { ServingMonitor, type ServingMonitorOptions, type ServingVerdict } from './serving-monitor.js';
export { ActivationCache, type CachedBatch } from './activation-cache.js';
export { MemoryStore, MEMORY_ENTRY_OVERHEAD_BYTES } from './memory-store.js';
export { DiskStore, RECORD_HEADER_BYTES, type DiskIndex } from './disk-store.js';
export { RowCodec } from './row-codec.js';
