import { quantizedBytes, type QuantizedTensor } from './quantize.js';

/** One int8 snapshot of every weight of the model, taken at a step. */
export interface Snapshot {
  readonly step: number;
  readonly tensors: QuantizedTensor[];
}

/**
 * The last `lag` snapshots. Comparing each evaluation with the oldest one gives a fixed-lag "drift
 * over L evaluations" series; a reference that is refreshed every k evaluations instead gives a
 * sawtooth on which no slope test works.
 */
export class SnapshotRing {
  private snapshots: Snapshot[] = [];

  constructor(readonly lag: number) {}

  /** The snapshot `lag` evaluations old, once the ring is full. */
  get reference(): Snapshot | null {
    return this.snapshots.length >= this.lag ? this.snapshots[0]! : null;
  }

  push(snapshot: Snapshot): void {
    this.snapshots.push(snapshot);
    while (this.snapshots.length > this.lag) this.snapshots.shift();
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
    this.snapshots = [...snapshots].slice(-this.lag);
  }
}
