// The text of the module's MaxPoolGrad, NHWC, channels a multiple of 4, over the images [n0, n1) (so
// that threads can each take a range: images write disjoint parts of dx). Each window finds, four
// channels at a time, the first pixel in scan order strictly greater than everything before it, starting
// from −Infinity (f32x4.gt is false for NaN: NaN is never chosen, and a window of −Infinity / NaN passes
// no gradient), then adds its dy there — tfjs-cpu's rule, windows in its order, so where windows overlap
// the sums are added in the same order too: results are exact.

import { countedLoop } from './wat-loops.js';

export const MAX_POOL_GRAD_FUNCTION = 'max_pool_grad';

/** The int32 parameter block the function reads (its sixth argument points to it), in this order. */
export const MAX_POOL_GRAD_PARAMS = ['H', 'W', 'C', 'OH', 'OW', 'FH', 'FW', 'SH', 'SW', 'top', 'left'] as const;

export function maxPoolGradWat(): string {
  const params = MAX_POOL_GRAD_PARAMS.map((name) => `(local $${name} i32)`).join(' ');
  const readParams = MAX_POOL_GRAD_PARAMS.map((name, i) => `(local.set $${name} (i32.load offset=${4 * i} (local.get $p)))`).join('\n    ');
  const max = (a: string, b: string) => `(select ${a} ${b} (i32.gt_s ${a} ${b}))`;
  const min = (a: string, b: string) => `(select ${a} ${b} (i32.lt_s ${a} ${b}))`;
  const scatter = [0, 1, 2, 3]
    .map(
      (lane) => `(local.set $at (i32x4.extract_lane ${lane} (local.get $maxI)))
              (if (i32.ge_s (local.get $at) (i32.const 0)) (then
                (local.set $at (i32.add (local.get $dxImage) (local.get $at)))
                (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32.load offset=${4 * lane} (i32.add (local.get $dyp) (local.get $d)))))))`,
    )
    .join('\n              ');
  // One window, four channels (d .. d + 3) at a time: its first strict maximum per lane, then dy added there.
  const window = `(local.set $maxV (f32x4.splat (f32.const -inf)))
            (local.set $maxI (i32x4.splat (i32.const -1)))
            ${countedLoop(
              { name: 'r', from: '(local.get $rMin)', to: '(local.get $rMax)', signed: true },
              countedLoop(
                { name: 'c', from: '(local.get $cMin)', to: '(local.get $cMax)', signed: true },
                `;; Byte offset of channels d..d+3 of pixel (r, c) in the image.
                (local.set $rel (i32.add (i32.mul (i32.add (i32.mul (local.get $r) (local.get $W)) (local.get $c)) (local.get $pixelBytes)) (local.get $d)))
                (local.set $v (v128.load (i32.add (local.get $xImage) (local.get $rel))))
                (local.set $gt (f32x4.gt (local.get $v) (local.get $maxV)))
                (local.set $maxV (v128.bitselect (local.get $v) (local.get $maxV) (local.get $gt)))
                (local.set $maxI (v128.bitselect (i32x4.add (i32x4.splat (local.get $rel)) (v128.const i32x4 0 4 8 12)) (local.get $maxI) (local.get $gt)))`,
              ),
            )}
              ${scatter}`;
  // One output pixel (yR, yC): its window's rows and columns clipped to the image, every channel.
  const outputPixel = `(local.set $c (i32.sub (i32.mul (local.get $yC) (local.get $SW)) (local.get $left)))
          (local.set $cMin ${max('(local.get $c)', '(i32.const 0)')})
          (local.set $cMax ${min('(i32.add (local.get $c) (local.get $FW))', '(local.get $W)')})
          ${countedLoop({ name: 'd', from: '(i32.const 0)', to: '(local.get $pixelBytes)', step: 16 }, window)}
          (local.set $dyp (i32.add (local.get $dyp) (local.get $pixelBytes)))`;
  const outputRow = `(local.set $r (i32.sub (i32.mul (local.get $yR) (local.get $SH)) (local.get $top)))
        (local.set $rMin ${max('(local.get $r)', '(i32.const 0)')})
        (local.set $rMax ${min('(i32.add (local.get $r) (local.get $FH))', '(local.get $H)')})
        ${countedLoop({ name: 'yC', from: '(i32.const 0)', to: '(local.get $OW)' }, outputPixel)}`;
  const image = `(local.set $xImage (i32.add (local.get $x) (i32.mul (local.get $b) (local.get $imageBytes))))
      (local.set $dxImage (i32.add (local.get $dx) (i32.mul (local.get $b) (local.get $imageBytes))))
      ${countedLoop({ name: 'yR', from: '(i32.const 0)', to: '(local.get $OH)' }, outputRow)}`;
  return `  (func (export "${MAX_POOL_GRAD_FUNCTION}") (param $x i32) (param $dy i32) (param $dx i32) (param $n0 i32) (param $n1 i32) (param $p i32)
    ${params}
    (local $imageBytes i32) (local $pixelBytes i32) (local $b i32) (local $xImage i32) (local $dxImage i32) (local $dyp i32)
    (local $yR i32) (local $yC i32) (local $rMin i32) (local $rMax i32) (local $cMin i32) (local $cMax i32) (local $r i32) (local $c i32)
    (local $d i32) (local $rel i32) (local $at i32) (local $v v128) (local $gt v128) (local $maxV v128) (local $maxI v128)
    ${readParams}
    (local.set $pixelBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $imageBytes (i32.mul (i32.mul (local.get $H) (local.get $W)) (local.get $pixelBytes)))
    (memory.fill (i32.add (local.get $dx) (i32.mul (local.get $n0) (local.get $imageBytes))) (i32.const 0)
      (i32.mul (i32.sub (local.get $n1) (local.get $n0)) (local.get $imageBytes)))
    (local.set $dyp (i32.add (local.get $dy) (i32.mul (local.get $n0) (i32.mul (i32.mul (local.get $OH) (local.get $OW)) (local.get $pixelBytes)))))
    ${countedLoop({ name: 'b', from: '(local.get $n0)', to: '(local.get $n1)' }, image)})`;
}
