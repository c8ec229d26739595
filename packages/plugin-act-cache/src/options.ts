import { optionChecks, type OptionChecks } from '@trainhooks/core-hooks';

/** Where entries live. 'auto': memory up to the budget, then disk. */
export type StoreChoice = 'memory' | 'disk' | 'auto';

export interface ActCacheOptions {
  /**
   * Required, and must be true: you promise that a sample's input to the frozen prefix is the same
   * every epoch (no random augmentation before the boundary). A cached activation is only right then.
   */
  deterministicInputs: boolean;
  store: StoreChoice;
  /** Bytes the memory store may hold (entries and their index); it never exceeds them. */
  memoryBudgetBytes: number;
  /** 'fp16' halves the bytes per entry at about three significant digits. */
  precision: 'fp32' | 'fp16';
  /** Where the disk store writes its files (a new folder inside); default: the OS temp directory. */
  directory: string | null;
  /** Leave the disk store's folder in place on `trainer.dispose()`. */
  keep: boolean;
  /**
   * Put the memory store's rows into checkpoints (`trainer.save`), so a restored run starts with a
   * warm cache. Off by default: the rows can be as large as the memory budget, and a restored run
   * recomputes them exactly as it goes (served and recomputed activations are the same numbers).
   */
  checkpointRows: boolean;
  /** Read the next batch's entries (context.nextIds) while the current step runs. */
  prefetch: boolean;
  /**
   * A batch whose rows are only partly cached: 'missing-rows' runs the prefix for the missing rows
   * alone and serves the batch; 'whole-batch' runs the prefix for the whole batch (a miss).
   */
  partialHits: 'missing-rows' | 'whole-batch';
  /**
   * Least share of a step that serving a boundary must save against computing its prefix (timed on
   * both kinds of step at that boundary); below it the boundary is computed, not served. 0: stop only
   * when serving is slower.
   */
  minSaving: number;
  /** Steps of each kind (served, computed) timed before a boundary is judged. */
  savingWindow: number;
}

export const DEFAULT_ACT_CACHE_OPTIONS: Readonly<Omit<ActCacheOptions, 'deterministicInputs'>> = Object.freeze({
  store: 'auto',
  memoryBudgetBytes: 1024 * 1024 * 1024,
  precision: 'fp32',
  directory: null,
  keep: false,
  checkpointRows: false,
  prefetch: true,
  partialHits: 'missing-rows',
  minSaving: 0.1,
  savingWindow: 16,
} satisfies Omit<ActCacheOptions, 'deterministicInputs'>);

const KNOWN = ['deterministicInputs', ...Object.keys(DEFAULT_ACT_CACHE_OPTIONS)];

const check: OptionChecks = optionChecks('plugin-act-cache');

/** Defaults filled in and every option checked, with messages naming option, value and what is allowed. */
export function resolveActCacheOptions(options: Partial<ActCacheOptions> = {}): ActCacheOptions {
  check.names(options, KNOWN);
  const resolved = { deterministicInputs: false, ...DEFAULT_ACT_CACHE_OPTIONS, ...options } as ActCacheOptions;
  check.boolean('deterministicInputs', resolved.deterministicInputs);
  check.oneOf('store', resolved.store, ['memory', 'disk', 'auto']);
  check.integer('memoryBudgetBytes', resolved.memoryBudgetBytes, 0, '(bytes)');
  check.oneOf('precision', resolved.precision, ['fp32', 'fp16']);
  if (resolved.directory !== null && (typeof resolved.directory !== 'string' || resolved.directory === '')) check.fail('directory', resolved.directory, 'null or a directory path');
  check.oneOf('partialHits', resolved.partialHits, ['missing-rows', 'whole-batch']);
  check.inInterval('minSaving', resolved.minSaving, '[0, 1)');
  check.integer('savingWindow', resolved.savingWindow, 1, '(steps)');
  for (const key of ['keep', 'checkpointRows', 'prefetch'] as const) check.boolean(key, resolved[key]);
  return resolved;
}
