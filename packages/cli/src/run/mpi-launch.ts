// Whether this process was started by an MPI launcher, read from the environment the launcher sets.
// The CLI needs to know before any run starts (MPI itself is initialised later, by plugin-mpi in the
// run's own process): ranks on one host share its cores, and only rank 0 prints and writes the report.

export interface MpiLaunch {
  readonly rank: number;
  readonly size: number;
  /** Ranks on this host. */
  readonly localSize: number;
}

/** Open MPI's variables, then the PMI ones of MPICH-style launchers; null outside a launcher. */
export function mpiLaunch(env: NodeJS.ProcessEnv = process.env): MpiLaunch | null {
  const rank = env.OMPI_COMM_WORLD_RANK ?? env.PMI_RANK;
  const size = env.OMPI_COMM_WORLD_SIZE ?? env.PMI_SIZE;
  if (rank === undefined || size === undefined) return null;
  const localSize = env.OMPI_COMM_WORLD_LOCAL_SIZE ?? env.MPI_LOCALNRANKS ?? size;
  return { rank: Number(rank), size: Number(size), localSize: Math.max(1, Number(localSize)) };
}
