import { optionChecks, type OptionChecks } from '@trainhooks/core-hooks';

export interface MpiOptions {
  /** Gradients are fused into all-reduce messages of at most this many bytes. */
  bucketBytes: number;
  /** Every this many steps the ranks compare a checksum of their weights and fail loudly if they differ (0: never). */
  checkEvery: number;
  /** A collective that does not complete within this time fails with an error naming the rank. */
  timeoutMs: number;
}

export const DEFAULT_MPI_OPTIONS: Readonly<MpiOptions> = Object.freeze({
  bucketBytes: 4 << 20,
  checkEvery: 50,
  timeoutMs: 120_000,
});

const check: OptionChecks = optionChecks('plugin-mpi');

export function resolveMpiOptions(options: Partial<MpiOptions> = {}): MpiOptions {
  check.names(options, Object.keys(DEFAULT_MPI_OPTIONS));
  const resolved = { ...DEFAULT_MPI_OPTIONS, ...options };
  check.integer('bucketBytes', resolved.bucketBytes, 4);
  check.integer('checkEvery', resolved.checkEvery, 0);
  check.integer('timeoutMs', resolved.timeoutMs, 1);
  return resolved;
}
