/**
 * Fisher–Yates shuffle driven by mulberry32, for `fit({ shuffleSeed })`: the same seed gives the same
 * batch order in every run, so two configurations can be compared on identical batches (tfjs shuffles
 * with Math.random).
 */
export function seededShuffler(seed: number): (order: Int32Array) => void {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (order) => {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      const swap = order[i]!;
      order[i] = order[j]!;
      order[j] = swap;
    }
  };
}
