import { checkOptionNames, optionError } from '@trainhooks/core-hooks';

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

export function resolveMpiOptions(options: Partial<MpiOptions> = {}): MpiOptions {
  checkOptionNames('plugin-mpi', options, Object.keys(DEFAULT_MPI_OPTIONS));
  const resolved = { ...DEFAULT_MPI_OPTIONS, ...options };
  const integer = (name: keyof MpiOptions, low: number) => {
    const value = resolved[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < low) optionError('plugin-mpi', name, value, `an integer ≥ ${low}`);
  };
  integer('bucketBytes', 4);
  integer('checkEvery', 0);
  integer('timeoutMs', 1);
  return resolved;
}
