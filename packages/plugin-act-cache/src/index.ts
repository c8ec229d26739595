export const PACKAGE_NAME = '@trainhooks/plugin-act-cache';
export { ActCachePlugin, actCachePlugin, type ActCacheState, type ActCacheStats, type CacheBypassEvent, type CacheHitEvent, type CacheMissEvent } from './act-cache-plugin.js';
export { DEFAULT_ACT_CACHE_OPTIONS, resolveActCacheOptions, type ActCacheOptions, type StoreChoice } from './options.js';
export { ServingMonitor, type ServingMonitorOptions, type ServingVerdict } from './serving-monitor.js';
export { ActivationCache, type CachedBatch } from './activation-cache.js';
export { MemoryStore, MEMORY_ENTRY_OVERHEAD_BYTES } from './memory-store.js';
export { DiskStore, RECORD_HEADER_BYTES, type DiskIndex } from './disk-store.js';
export { RowCodec } from './row-codec.js';
export { toHalf, fromHalf, encodeHalf, decodeHalf } from '@trainhooks/core-hooks';
