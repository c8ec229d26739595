import { quantizedBytes, type QuantizedTensor } from './quantize.js';

/** One int8 snapshot of every weight of the model, taken at a step. */
export interface Snapshot {
  readonly step: number;
  readonly tensors: QuantizedTensor[];
  /** Per unit, the steps it had trained on by then (trained-steps.ts); absent in older states. */
  readonly trained?: readonly number[];
}

/**
 * The last `capacity` snapshots (at least `lag`). Comparing each evaluation with the one `lag`
 * evaluations old gives a fixed-lag "drift over L evaluations" series; a reference that is refreshed
 * every k evaluations instead gives a sawtooth on which no slope test works. A capacity of 2·lag also
 * keeps the snapshot twice as old, to tell directed movement from a random walk (output-effect.ts).
 */
export class SnapshotRing {
  private snapshots: Snapshot[] = [];
  readonly capacity: number;

  constructor(
    readonly lag: number,
    capacity = lag,
  ) {
    this.capacity = Math.max(lag, capacity);
  }

  /** The snapshot `lag` evaluations old, once there is one. */
  get reference(): Snapshot | null {
    return this.ago(this.lag);
  }

  /** The snapshot `evaluations` old (1: the newest), or null when the ring does not reach that far. */
  ago(evaluations: number): Snapshot | null {
    return evaluations >= 1 && evaluations <= this.snapshots.length ? this.snapshots[this.snapshots.length - evaluations]! : null;
  }

  push(snapshot: Snapshot): void {
    this.snapshots.push(snapshot);
    while (this.snapshots.length > this.capacity) this.snapshots.shift();
  }

  clear(): void {
    this.snapshots = [];
  }

  get size(): number {
    return this.snapshots.length;
  }

  get bytes(): number {
    return this.snapshots.reduce((sum, snapshot) => sum + snapshot.tensors.reduce((bytes, tensor) => bytes + quantizedBytes(tensor), 0), 0);
  }

  get contents(): readonly Snapshot[] {
    return this.snapshots;
  }

  replace(snapshots: readonly Snapshot[]): void {
    this.snapshots = [...snapshots].slice(-this.capacity);
  }
}
