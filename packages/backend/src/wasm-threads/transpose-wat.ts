// The text of the module's transpose: out[b, a] = x[a, b] for an A × B matrix with row strides of its
// own (so one call serves a tensor whose two swapped axes have a third between or around them), repeated
// over `outer` matrices `xOuter` / `outOuter` floats apart. 4 × 4 blocks go through four 128-bit loads, a
// lane shuffle and four stores; the edges one float at a time. Pure data movement: results are exact.

import { countedLoop, whileLoop } from './wat-loops.js';

/** Float lanes [l0, l1, l2, l3] of (p, q) (q's lanes numbered 4–7) as i8x16.shuffle's byte indices. */
function lanes(...floatLanes: number[]): string {
  return floatLanes.flatMap((lane) => [0, 1, 2, 3].map((byte) => lane * 4 + byte)).join(' ');
}

export const TRANSPOSE_FUNCTION = 'transpose';

export function transposeWat(): string {
  // Scalar copy of the block [a0, a1) × [b0, b1) of one matrix (byte strides).
  const edge = `  (func $transpose_edge (param $x i32) (param $o i32) (param $a0 i32) (param $a1 i32) (param $b0 i32) (param $b1 i32) (param $xs i32) (param $os i32) (local $a i32) (local $b i32)
    ${countedLoop(
      { name: 'a', from: '(local.get $a0)', to: '(local.get $a1)' },
      countedLoop(
        { name: 'b', from: '(local.get $b0)', to: '(local.get $b1)' },
        `(f32.store
          (i32.add (local.get $o) (i32.add (i32.mul (local.get $b) (local.get $os)) (i32.shl (local.get $a) (i32.const 2))))
          (f32.load (i32.add (local.get $x) (i32.add (i32.mul (local.get $a) (local.get $xs)) (i32.shl (local.get $b) (i32.const 2))))))`,
      ),
    )})`;
  // One 4 × 4 block at (a, b): four row loads, two rounds of lane shuffles, four column stores.
  const block4x4 = `(local.set $s (i32.add (local.get $x) (i32.add (i32.mul (local.get $a) (local.get $xs)) (i32.shl (local.get $b) (i32.const 2)))))
          (local.set $v0 (v128.load (local.get $s)))
          (local.set $v1 (v128.load (i32.add (local.get $s) (local.get $xs))))
          (local.set $v2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $xs) (i32.const 1)))))
          (local.set $v3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $xs) (i32.const 3)))))
          (local.set $t0 (i8x16.shuffle ${lanes(0, 4, 1, 5)} (local.get $v0) (local.get $v1)))
          (local.set $t1 (i8x16.shuffle ${lanes(2, 6, 3, 7)} (local.get $v0) (local.get $v1)))
          (local.set $t2 (i8x16.shuffle ${lanes(0, 4, 1, 5)} (local.get $v2) (local.get $v3)))
          (local.set $t3 (i8x16.shuffle ${lanes(2, 6, 3, 7)} (local.get $v2) (local.get $v3)))
          (local.set $d (i32.add (local.get $o) (i32.add (i32.mul (local.get $b) (local.get $os)) (i32.shl (local.get $a) (i32.const 2)))))
          (v128.store (local.get $d) (i8x16.shuffle ${lanes(0, 1, 4, 5)} (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $d) (local.get $os)) (i8x16.shuffle ${lanes(2, 3, 6, 7)} (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $d) (i32.shl (local.get $os) (i32.const 1))) (i8x16.shuffle ${lanes(0, 1, 4, 5)} (local.get $t1) (local.get $t3)))
          (v128.store (i32.add (local.get $d) (i32.mul (local.get $os) (i32.const 3))) (i8x16.shuffle ${lanes(2, 3, 6, 7)} (local.get $t1) (local.get $t3)))`;
  const main = `  (func (export "${TRANSPOSE_FUNCTION}") (param $x i32) (param $o i32) (param $A i32) (param $B i32) (param $xStride i32) (param $oStride i32) (param $outer i32) (param $xOuter i32) (param $oOuter i32)
    (local $xs i32) (local $os i32) (local $A4 i32) (local $B4 i32) (local $a i32) (local $b i32) (local $s i32) (local $d i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $xs (i32.shl (local.get $xStride) (i32.const 2)))
    (local.set $os (i32.shl (local.get $oStride) (i32.const 2)))
    (local.set $A4 (i32.and (local.get $A) (i32.const -4)))
    (local.set $B4 (i32.and (local.get $B) (i32.const -4)))
    ${whileLoop(
      'outer',
      '(i32.eqz (local.get $outer))',
      `${countedLoop(
        { name: 'a', from: '(i32.const 0)', to: '(local.get $A4)', step: 4 },
        countedLoop({ name: 'b', from: '(i32.const 0)', to: '(local.get $B4)', step: 4 }, block4x4),
      )}
      ;; The edges: the last B mod 4 columns of the full rows, then the last A mod 4 rows.
      (call $transpose_edge (local.get $x) (local.get $o) (i32.const 0) (local.get $A4) (local.get $B4) (local.get $B) (local.get $xs) (local.get $os))
      (call $transpose_edge (local.get $x) (local.get $o) (local.get $A4) (local.get $A) (i32.const 0) (local.get $B) (local.get $xs) (local.get $os))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $xOuter) (i32.const 2))))
      (local.set $o (i32.add (local.get $o) (i32.shl (local.get $oOuter) (i32.const 2))))
      (local.set $outer (i32.sub (local.get $outer) (i32.const 1)))`,
    )})`;
  return `${edge}\n${main}`;
}
