// One process's view of an MPI job: rank, size, and the collectives data-parallel training needs, each
// non-blocking and polled with a deadline, so a dead or stuck rank ends in an error naming this rank
// rather than a hang.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { loadMpiLibrary, type MpiLibrary } from './mpi-library.js';

/** Buffers of at least this size live outside V8's heap, so MPI may hold their address while we poll. */
const MIN_BUFFER_BYTES = 256;

export class MpiCommunicator {
  private finalizedHere = false;

  private constructor(
    private readonly mpi: MpiLibrary,
    readonly rank: number,
    readonly size: number,
    /** Whether this process called MPI_Init (and so must call MPI_Finalize). */
    private readonly ownsInit: boolean,
    private readonly timeoutMs: number,
  ) {}

  /** Initialises MPI once per process (or joins an existing init) and reads rank and size. */
  static init(timeoutMs: number): MpiCommunicator {
    const mpi = loadMpiLibrary();
    const flag = [0];
    mpi.initialized(flag);
    const ownsInit = flag[0] === 0;
    if (ownsInit) check(mpi.init(), 'MPI_Init', -1);
    const rank = [0];
    const size = [0];
    check(mpi.rank(mpi.commWorld, rank), 'MPI_Comm_rank', -1);
    check(mpi.size(mpi.commWorld, size), 'MPI_Comm_size', rank[0]!);
    return new MpiCommunicator(mpi, rank[0]!, size[0]!, ownsInit, timeoutMs);
  }

  /** A buffer MPI may read and write asynchronously: off V8's heap, so it never moves. */
  static buffer<T extends Float32Array | Float64Array>(kind: new (buffer: ArrayBuffer) => T, elements: number, bytesPerElement: number): T {
    return new kind(new ArrayBuffer(Math.max(MIN_BUFFER_BYTES, elements * bytesPerElement)));
  }

  /** In place: every rank ends with the element-wise sum over ranks of the first `count` values. */
  allreduceSum(values: Float32Array | Float64Array, count = values.length, what = 'allreduce'): Promise<void> {
    return this.allreduce(values, count, this.mpi.sum, what);
  }

  /** In place: the element-wise maximum over ranks. */
  allreduceMax(values: Float64Array, count = values.length, what = 'allreduce(max)'): Promise<void> {
    return this.allreduce(values, count, this.mpi.max, what);
  }

  /** In place: rank `root`'s values on every rank. `timeoutMs` overrides the communicator's (e.g. at start-up). */
  async broadcast(values: Float32Array | Float64Array, root = 0, count = values.length, what = 'broadcast', timeoutMs = this.timeoutMs): Promise<void> {
    const request: unknown[] = [null];
    check(this.mpi.ibcast(values, count, this.typeOf(values), root, this.mpi.commWorld, request), `MPI_Ibcast (${what})`, this.rank);
    await this.wait(request, what, timeoutMs);
  }

  private async allreduce(values: Float32Array | Float64Array, count: number, op: unknown, what: string): Promise<void> {
    const request: unknown[] = [null];
    check(this.mpi.iallreduce(this.mpi.inPlace, values, count, this.typeOf(values), op, this.mpi.commWorld, request), `MPI_Iallreduce (${what})`, this.rank);
    await this.wait(request, what);
  }

  private typeOf(values: Float32Array | Float64Array): unknown {
    return values instanceof Float32Array ? this.mpi.float32 : this.mpi.float64;
  }

  /** Polls the request: a tight loop for the first millisecond (the common case), then yielding. */
  private async wait(request: unknown[], what: string, timeoutMs = this.timeoutMs): Promise<void> {
    const began = performance.now();
    const flag = [0];
    for (let polls = 0; ; polls++) {
      check(this.mpi.test(request, flag, null), `MPI_Test (${what})`, this.rank);
      if (flag[0]) return;
      const waited = performance.now() - began;
      if (waited > timeoutMs) {
        throw new Error(`plugin-mpi: rank ${this.rank} of ${this.size}: ${what} did not complete within ${timeoutMs} ms — another rank died, hangs or disagrees on the collective`);
      }
      if (waited > 1) await yieldToEventLoop();
    }
  }

  /** Ends MPI in this process, if this process started it; safe to call twice. */
  finalize(): void {
    if (!this.ownsInit || this.finalizedHere) return;
    const flag = [0];
    this.mpi.finalized(flag);
    if (!flag[0]) this.mpi.finalize();
    this.finalizedHere = true;
  }

  /** Ends the whole job (every rank) with `code`: the last resort after an unrecoverable disagreement. */
  abort(code: number): void {
    this.mpi.abort(this.mpi.commWorld, code);
  }
}

function check(code: number, call: string, rank: number): void {
  if (code !== 0) throw new Error(`plugin-mpi: ${call} failed with MPI error ${code}${rank >= 0 ? ` on rank ${rank}` : ''}`);
}
