/**
 * mulberry32: a 32-bit state, fast, and good enough for shuffles and skip draws. The whole state is one integer,
 * so a checkpoint restores the exact sequence.
 */
export class SeededRandom {
  constructor(private state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  get currentState(): number {
    return this.state;
  }

  /** Continues from a `currentState` saved earlier (a checkpoint). */
  restoreState(state: number): void {
    this.state = state >>> 0;
  }
}

/** Fisher–Yates shuffle of `order` in place, drawn from `random`. */
export function shuffleInPlace(order: Int32Array, random: SeededRandom): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
}
