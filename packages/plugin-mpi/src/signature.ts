// 32-bit FNV-1a signatures that ranks compare (exact in a float64, so they travel in MPI_DOUBLE buffers).

const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;

function mix(hash: number, value: number): number {
  return Math.imul(hash ^ value, PRIME) >>> 0;
}

/** Of names in order: ranks compare it to agree on which gradients they send. */
export function namesSignature(names: readonly string[]): number {
  let hash = OFFSET_BASIS;
  for (const name of names) {
    for (let i = 0; i < name.length; i++) hash = mix(hash, name.charCodeAt(i));
    hash = mix(hash, 0x2c);
  }
  return hash;
}

/** Of a batch's sample ids: ranks compare it to check they train on the same batch. */
export function idsSignature(ids: Int32Array): number {
  let hash = OFFSET_BASIS;
  for (let i = 0; i < ids.length; i++) hash = mix(hash, ids[i]!);
  return hash;
}
