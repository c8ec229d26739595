// @trainhooks/plugin-act-cache: serves the frozen prefix's activations from a cache.
// @trainhooks/plugin-act-cache/internal holds the stores and codecs, for tests. Unstable.
export const PACKAGE_NAME = '@trainhooks/plugin-act-cache';
export { ActCachePlugin, actCachePlugin, type ActCacheState, type ActCacheStats, type CacheBypassEvent, type CacheHitEvent, type CacheMissEvent } from './act-cache-plugin.js';
export { DEFAULT_ACT_CACHE_OPTIONS, resolveActCacheOptions, type ActCacheOptions, type StoreChoice } from './options.js';
