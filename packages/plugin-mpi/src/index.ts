export const PACKAGE_NAME = '@trainhooks/plugin-mpi';
export { MpiPlugin, mpiPlugin, type AllReduceEvent, type MpiReport, type MpiStats } from './mpi-plugin.js';
export { MpiCommunicator } from './communicator.js';
export { DEFAULT_MPI_OPTIONS, resolveMpiOptions, type MpiOptions } from './options.js';
export { planBuckets, shardRange, type Bucket, type BucketEntry } from './gradient-buckets.js';
export { namesSignature, idsSignature } from './signature.js';
