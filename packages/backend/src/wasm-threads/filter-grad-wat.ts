// The text of the module's convolution filter gradient, NHWC, dilation 1, any stride and padding:
//   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + kh − padTop, ow·sw + kw − padLeft, ci] · dy[n, oh, ow, co]
// over the images [n0, n1) only — so that threads can each sum a range of images into a partial dW of
// their own. A tile of dW (`rows` input × `cols` output channels) stays in SIMD registers while the
// pixels stream past: per pixel, one broadcast load of x per row, cols / 4 loads of dy, and
// rows · cols / 4 multiplies and adds. Images go in chunks that fit the cache, and every tile of dW
// takes its turn on a chunk. Variants: 4 × 8 (8 registers; Ci % 4 = 0, Co % 8 = 0) for most layers,
// 1 × 16 and 1 × 8 where Ci is not a multiple of 4 (first layers on 1–3 channel images). The order of
// the sums differs from XNNPACK's: results agree to rounding.

import { countedLoop, whileLoop } from './wat-loops.js';

/** The int32 parameter block the functions read (their sixth argument points to it), in this order. */
export const FILTER_GRAD_PARAMS = ['H', 'W', 'Ci', 'OH', 'OW', 'Co', 'KH', 'KW', 'sh', 'sw', 'padTop', 'padLeft', 'chunk'] as const;

/** Tile shapes (input × output channels of dW), best first: a case takes the first whose sizes divide its channels. */
export const FILTER_GRAD_TILES = [
  { rows: 4, cols: 8 },
  { rows: 1, cols: 16 },
  { rows: 1, cols: 8 },
] as const;

export type FilterGradTile = (typeof FILTER_GRAD_TILES)[number];

export function filterGradFunctionName({ rows, cols }: FilterGradTile): string {
  return `conv_filter_grad_${rows}x${cols}`;
}

export const FILTER_GRAD_FUNCTIONS: readonly string[] = FILTER_GRAD_TILES.map(filterGradFunctionName);

export function filterGradWat(): string {
  return FILTER_GRAD_TILES.map(filterGradTileWat).join('\n');
}

function filterGradTileWat(tile: FilterGradTile): string {
  const { rows, cols } = tile;
  const vectors = cols / 4;
  const params = FILTER_GRAD_PARAMS.map((name) => `(local $${name} i32)`).join(' ');
  const readParams = FILTER_GRAD_PARAMS.map((name, i) => `(local.set $${name} (i32.load offset=${4 * i} (local.get $p)))`).join('\n    ');
  const range = (count: number) => Array.from({ length: count }, (_, i) => i);
  // $a_r_v: row r of the tile (input channel ci0 + r), output channels co0 + 4v .. co0 + 4v + 3.
  const acc = (r: number, v: number) => `$a_${r}_${v}`;
  const accumulators = range(rows).flatMap((r) => range(vectors).map((v) => `(local ${acc(r, v)} v128)`)).join(' ');
  const dyVectors = range(vectors).map((v) => `(local $d${v} v128)`).join(' ');
  const row = (r: number) => `(i32.add (local.get $tile) (i32.mul (i32.const ${r}) (local.get $rowBytes)))`;
  const tileOp = (op: (r: number, v: number) => string) => range(rows).flatMap((r) => range(vectors).map((v) => op(r, v))).join('\n              ');
  // Each chunk's sums start from zero and are added to dW once: a running total that took every
  // pixel's product one by one would round each against the total (micro-batches would then drift
  // from the whole batch by more than the order of their sums explains).
  const zeroTile = tileOp((r, v) => `(local.set ${acc(r, v)} (v128.const i64x2 0 0))`);
  const addTile = tileOp((r, v) => `(v128.store offset=${16 * v} ${row(r)} (f32x4.add (v128.load offset=${16 * v} ${row(r)}) (local.get ${acc(r, v)})))`);
  const pixel = [
    ...range(vectors).map((v) => `(local.set $d${v} (v128.load offset=${16 * v} (local.get $dp)))`),
    ...range(rows).flatMap((r) => [
      `(local.set $s (v128.load32_splat offset=${4 * r} (local.get $xp)))`,
      ...range(vectors).map((v) => `(local.set ${acc(r, v)} (f32x4.add (local.get ${acc(r, v)}) (f32x4.mul (local.get $s) (local.get $d${v}))))`),
    ]),
  ].join('\n                      ');
  // Row oh of image n: the run of `count` output columns whose input pixels lie in the image, each pixel's
  // products added to the tile.
  const outputRow = `(local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $sh)) (local.get $kh)) (local.get $padTop)))
                  (if (i32.and (i32.ge_s (local.get $ih) (i32.const 0)) (i32.lt_s (local.get $ih) (local.get $H))) (then
                    (local.set $xp (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (local.get $ih)) (local.get $W))
                      (i32.sub (i32.add (i32.mul (local.get $owLo) (local.get $sw)) (local.get $kw)) (local.get $padLeft))) (local.get $Ci)) (local.get $ci)) (i32.const 2))))
                    (local.set $dp (i32.add (local.get $dy) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $OH)) (local.get $oh)) (local.get $OW)) (local.get $owLo)) (local.get $Co)) (local.get $co)) (i32.const 2))))
                    (local.set $left (local.get $count))
                    (loop $pixels
                      ${pixel}
                      (local.set $xp (i32.add (local.get $xp) (local.get $xPixel)))
                      (local.set $dp (i32.add (local.get $dp) (local.get $rowBytes)))
                      (local.set $left (i32.sub (local.get $left) (i32.const 1)))
                      (br_if $pixels (local.get $left)))))`;
  // The tile of dW at (kh, kw, ci, co): zeroed sums over the chunk's images, then added to dW.
  const tileOverChunk = `(local.set $tile (i32.add (local.get $out) (i32.shl
                (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $Ci)) (local.get $ci)) (local.get $Co)) (local.get $co))
                (i32.const 2))))
              ${zeroTile}
              ${countedLoop(
                { name: 'n', from: '(local.get $nc)', to: '(local.get $ne)' },
                countedLoop({ name: 'oh', from: '(i32.const 0)', to: '(local.get $OH)' }, outputRow),
              )}
              ${addTile}`;
  // Filter offset (kh, kw): the output columns it reaches inside the image, then every tile of dW.
  const filterOffset = `;; Output columns whose input column ow·sw + kw − padLeft lies in [0, W).
          ${whileLoop(
            'lo',
            '(i32.ge_s (i32.sub (i32.add (i32.mul (local.get $owLo) (local.get $sw)) (local.get $kw)) (local.get $padLeft)) (i32.const 0))',
            '(local.set $owLo (i32.add (local.get $owLo) (i32.const 1)))',
          )}
          (local.set $owHi (local.get $OW))
          (block $hi_done (loop $hi_loop
            (br_if $hi_done (i32.le_u (local.get $owHi) (local.get $owLo)))
            (br_if $hi_done (i32.lt_s (i32.sub (i32.add (i32.mul (i32.sub (local.get $owHi) (i32.const 1)) (local.get $sw)) (local.get $kw)) (local.get $padLeft)) (local.get $W)))
            (local.set $owHi (i32.sub (local.get $owHi) (i32.const 1)))
            (br $hi_loop)))
          (local.set $count (i32.sub (local.get $owHi) (local.get $owLo)))
          (if (i32.gt_s (local.get $count) (i32.const 0)) (then
          ${countedLoop(
            { name: 'ci', from: '(i32.const 0)', to: '(local.get $Ci)', step: rows },
            countedLoop({ name: 'co', from: '(i32.const 0)', to: '(local.get $Co)', step: cols }, tileOverChunk),
          )}))`;
  // Images [nc, ne): one chunk that fits the cache, every filter offset in turn.
  const chunk = `(local.set $ne (select (local.get $n1) (i32.add (local.get $nc) (local.get $chunk)) (i32.lt_u (i32.sub (local.get $n1) (local.get $nc)) (local.get $chunk))))
      ${countedLoop(
        { name: 'kh', from: '(i32.const 0)', to: '(local.get $KH)' },
        countedLoop({ name: 'kw', from: '(i32.const 0)', to: '(local.get $KW)' }, `(local.set $owLo (i32.const 0))
          ${filterOffset}`),
      )}
      (local.set $nc (local.get $ne))`;
  return `  (func (export "${filterGradFunctionName(tile)}") (param $x i32) (param $dy i32) (param $out i32) (param $n0 i32) (param $n1 i32) (param $p i32)
    ${params}
    (local $kh i32) (local $kw i32) (local $ci i32) (local $co i32) (local $n i32) (local $oh i32) (local $ih i32)
    (local $nc i32) (local $ne i32) (local $owLo i32) (local $owHi i32) (local $count i32) (local $left i32)
    (local $tile i32) (local $rowBytes i32) (local $xPixel i32) (local $xp i32) (local $dp i32) (local $i i32)
    ${accumulators} ${dyVectors} (local $s v128)
    ${readParams}
    (local.set $rowBytes (i32.shl (local.get $Co) (i32.const 2)))
    (local.set $xPixel (i32.shl (i32.mul (local.get $sw) (local.get $Ci)) (i32.const 2)))
    ;; dW starts at zero.
    (local.set $i (i32.mul (i32.mul (i32.mul (local.get $KH) (local.get $KW)) (local.get $Ci)) (local.get $rowBytes)))
    (memory.fill (local.get $out) (i32.const 0) (local.get $i))
    (local.set $nc (local.get $n0))
    ${whileLoop('chunks', '(i32.ge_u (local.get $nc) (local.get $n1))', chunk)})`;
}
