// @trainhooks/plugin-mpi: data-parallel training over Open MPI.
// @trainhooks/plugin-mpi/internal holds the communicator and the bucket planner, for tests. Unstable.
export const PACKAGE_NAME = '@trainhooks/plugin-mpi';
export { MpiPlugin, mpiPlugin, type AllReduceEvent, type MpiReport, type MpiStats } from './mpi-plugin.js';
export { DEFAULT_MPI_OPTIONS, resolveMpiOptions, type MpiOptions } from './options.js';
