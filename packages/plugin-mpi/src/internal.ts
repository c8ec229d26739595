// @trainhooks/plugin-mpi/internal — UNSTABLE. The public API plus the communicator, the gradient
// bucket planner and the signatures ranks compare, for tests.
export * from './index.js';
export { MpiCommunicator } from './communicator.js';
export { planBuckets, shardRange, type Bucket, type BucketEntry } from './gradient-buckets.js';
export { namesSignature, idsSignature } from './signature.js';
