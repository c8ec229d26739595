// The text of the pool module's block repeat (pool-module-wat.ts): `count` copies of `blockBytes` bytes
// from $src written one after another from $dst — Tile of a tensor repeated whole (tile.ts). The block is
// copied once, then the written part doubled with memory.copy (a memmove in the engine) until the range
// is full, so each part of a split call fills its own range of copies.

import { whileLoop } from './wat-loops.js';

export const REPEAT_FUNCTION = 'repeat';

export function repeatWat(): string {
  return `  (func (export "${REPEAT_FUNCTION}") (param $src i32) (param $dst i32) (param $blockBytes i32) (param $count i32) (local $filled i32) (local $total i32) (local $n i32)
    (local.set $total (i32.mul (local.get $blockBytes) (local.get $count)))
    (br_if 0 (i32.eqz (local.get $total)))
    (memory.copy (local.get $dst) (local.get $src) (local.get $blockBytes))
    (local.set $filled (local.get $blockBytes))
    ${whileLoop(
      'double',
      '(i32.ge_u (local.get $filled) (local.get $total))',
      `(local.set $n (i32.sub (local.get $total) (local.get $filled)))
      (if (i32.gt_u (local.get $n) (local.get $filled)) (then (local.set $n (local.get $filled))))
      (memory.copy (i32.add (local.get $dst) (local.get $filled)) (local.get $dst) (local.get $n))
      (local.set $filled (i32.add (local.get $filled) (local.get $n)))`,
    )})`;
}
