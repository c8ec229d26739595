// Open MPI's C API through koffi. Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM…) are the
// addresses of exported symbols, so they are taken with lib.symbol; MPI_IN_PLACE is (void *) 1 and
// MPI_STATUS_IGNORE is NULL. Only non-blocking collectives are bound: a caller polls MPI_Test, so a
// collective whose peer died is given up after a timeout instead of blocking the process forever.
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';

type Pointer = unknown;

export interface MpiLibrary {
  readonly init: () => number;
  readonly initialized: (flag: number[]) => number;
  readonly finalize: () => number;
  readonly finalized: (flag: number[]) => number;
  readonly rank: (comm: Pointer, out: number[]) => number;
  readonly size: (comm: Pointer, out: number[]) => number;
  readonly iallreduce: (send: Pointer, receive: ArrayBufferView, count: number, type: Pointer, op: Pointer, comm: Pointer, request: Pointer[]) => number;
  readonly ibcast: (buffer: ArrayBufferView, count: number, type: Pointer, root: number, comm: Pointer, request: Pointer[]) => number;
  readonly test: (request: Pointer[], flag: number[], status: null) => number;
  readonly abort: (comm: Pointer, code: number) => number;
  readonly commWorld: Pointer;
  readonly float32: Pointer;
  readonly float64: Pointer;
  readonly sum: Pointer;
  readonly max: Pointer;
  readonly inPlace: Pointer;
}

/** The shared library's names, most specific first; TRAINHOOKS_LIBMPI names another. */
const LIBRARY_NAMES = ['libmpi.so.40', 'libmpi.so', 'libmpi.dylib'];

let loaded: MpiLibrary | null = null;

export function loadMpiLibrary(): MpiLibrary {
  if (loaded) return loaded;
  const require = createRequire(typeof __filename === 'string' && isAbsolute(__filename) ? __filename : import.meta.url);
  let koffi: typeof import('koffi');
  try {
    koffi = require('koffi') as typeof import('koffi');
  } catch (error) {
    throw new Error(`plugin-mpi: the koffi package could not be loaded (${(error as Error).message.split('\n')[0]})`);
  }
  const names = process.env.TRAINHOOKS_LIBMPI ? [process.env.TRAINHOOKS_LIBMPI] : LIBRARY_NAMES;
  const failures: string[] = [];
  for (const name of names) {
    try {
      // Global: Open MPI's own plugins (mca components) resolve MPI symbols against it.
      const lib = koffi.load(name, { global: true });
      loaded = {
        init: lib.func('int MPI_Init(void *argc, void *argv)').bind(null, null, null) as () => number,
        initialized: lib.func('int MPI_Initialized(_Out_ int *flag)'),
        finalize: lib.func('int MPI_Finalize()'),
        finalized: lib.func('int MPI_Finalized(_Out_ int *flag)'),
        rank: lib.func('int MPI_Comm_rank(void *comm, _Out_ int *rank)'),
        size: lib.func('int MPI_Comm_size(void *comm, _Out_ int *size)'),
        iallreduce: lib.func('int MPI_Iallreduce(void *sendbuf, void *recvbuf, int count, void *datatype, void *op, void *comm, _Out_ void **request)'),
        ibcast: lib.func('int MPI_Ibcast(void *buffer, int count, void *datatype, int root, void *comm, _Out_ void **request)'),
        test: lib.func('int MPI_Test(_Inout_ void **request, _Out_ int *flag, void *status)'),
        abort: lib.func('int MPI_Abort(void *comm, int errorcode)'),
        commWorld: lib.symbol('ompi_mpi_comm_world', 'char'),
        float32: lib.symbol('ompi_mpi_float', 'char'),
        float64: lib.symbol('ompi_mpi_double', 'char'),
        sum: lib.symbol('ompi_mpi_op_sum', 'char'),
        max: lib.symbol('ompi_mpi_op_max', 'char'),
        inPlace: koffi.as(1 as never, 'void *'),
      };
      return loaded;
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `plugin-mpi: Open MPI is not available (${failures.join('; ')}). Install it (Debian: apt-get install openmpi-bin libopenmpi-dev) or name the library in TRAINHOOKS_LIBMPI.`,
  );
}
