// Gradients fused into few large messages: each all-reduce has a fixed cost, so many small variables
// (biases) travel together. Buckets follow the model's variable order, never split a variable, and are
// at most `bucketBytes` unless one variable alone is larger.

export interface BucketEntry {
  readonly name: string;
  /** Offset in the bucket, in elements. */
  readonly offset: number;
  readonly size: number;
}

export interface Bucket {
  readonly entries: readonly BucketEntry[];
  /** Elements in the bucket. */
  readonly size: number;
}

export function planBuckets(variables: ReadonlyArray<{ name: string; size: number }>, bucketBytes: number): Bucket[] {
  const buckets: Bucket[] = [];
  let entries: BucketEntry[] = [];
  let size = 0;
  for (const variable of variables) {
    if (entries.length > 0 && (size + variable.size) * 4 > bucketBytes) {
      buckets.push({ entries, size });
      entries = [];
      size = 0;
    }
    entries.push({ name: variable.name, offset: size, size: variable.size });
    size += variable.size;
  }
  if (entries.length > 0) buckets.push({ entries, size });
  return buckets;
}

/** Rows [from, to) of a batch of `batchSize` that rank `rank` of `size` trains on: contiguous, as equal as possible. */
export function shardRange(batchSize: number, rank: number, size: number): { from: number; to: number } {
  return { from: Math.floor((batchSize * rank) / size), to: Math.floor((batchSize * (rank + 1)) / size) };
}
