import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_SPEC, threadsPerRun } from '@trainhooks/cli/internal';
import { mpiLaunch } from '../../packages/cli/src/run/mpi-launch.js';

describe('mpiLaunch', () => {
  it('reads Open MPI’s variables, then PMI’s, and is null outside a launcher', () => {
    expect(mpiLaunch({ OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_LOCAL_SIZE: '2' })).toEqual({ rank: 1, size: 4, localSize: 2 });
    expect(mpiLaunch({ PMI_RANK: '0', PMI_SIZE: '3' })).toEqual({ rank: 0, size: 3, localSize: 3 });
    expect(mpiLaunch({})).toBeNull();
  });

  it('ranks on one host share its cores', () => {
    const base = { ...DEFAULT_RUN_SPEC, learningRate: 0.001 };
    const cores = availableParallelism();
    expect(threadsPerRun({ base, parallel: 1 }, { rank: 0, size: 2, localSize: 2 })).toBe(Math.max(1, Math.floor(cores / 2)));
    expect(threadsPerRun({ base, parallel: 1 }, { rank: 0, size: 8, localSize: 1 })).toBe(cores);
    expect(threadsPerRun({ base: { ...base, threads: 3 }, parallel: 1 }, { rank: 0, size: 2, localSize: 2 })).toBe(3);
  });
});
