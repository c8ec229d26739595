// The text of the pool module's elementwise float32 kernels (pool-module-wat.ts): binary arithmetic
// that tfjs-wasm runs on one thread only. Arithmetic is the same IEEE float32 operation stock wasm does,
// 4 lanes at a time (f32x4), so results are bit-identical to it.

import { whileLoop } from './wat-loops.js';

/** The binary operations, as wasm instructions on f32x4 and f32. */
export const ELEMENTWISE_OPS = { mul: 'mul', add: 'add', sub: 'sub', div: 'div' } as const;
export type ElementwiseOp = keyof typeof ELEMENTWISE_OPS;

/**
 * How the operands are laid out (x: a tensor of n floats; o: the output, n floats):
 * - same:      o[i] = x[i] ∘ y[i]
 * - scalar:    o[i] = x[i] ∘ s          (s: one float at its address)
 * - scalarFirst: o[i] = s ∘ x[i]
 * - row:       o[r·run + j] = x[r·run + j] ∘ v[j]   (v: a vector of `run` floats, e.g. per channel)
 * - rowFirst:  o[r·run + j] = v[j] ∘ x[r·run + j]
 */
export const ELEMENTWISE_LAYOUTS = ['same', 'scalar', 'scalarFirst', 'row', 'rowFirst'] as const;
export type ElementwiseLayout = (typeof ELEMENTWISE_LAYOUTS)[number];

export function elementwiseFunctionName(op: ElementwiseOp, layout: ElementwiseLayout): string {
  return `${op}_${layout}`;
}

/** The elementwise functions' names. */
export const ELEMENTWISE_FUNCTIONS: readonly string[] = Object.keys(ELEMENTWISE_OPS).flatMap((op) =>
  ELEMENTWISE_LAYOUTS.map((layout) => elementwiseFunctionName(op as ElementwiseOp, layout)),
);

/** The second operand of a layout: its 4-lane and 1-lane loads, and the pointer that walks it (if any). */
function operand(layout: ElementwiseLayout): { lanes4: string; lane: string; pointer: string | null } {
  if (layout === 'same') return { lanes4: '(v128.load (local.get $y))', lane: '(f32.load (local.get $y))', pointer: '$y' };
  if (layout === 'scalar' || layout === 'scalarFirst') return { lanes4: '(local.get $s4)', lane: '(local.get $s)', pointer: null };
  return { lanes4: '(v128.load (local.get $v))', lane: '(f32.load (local.get $v))', pointer: '$v' };
}

/** o = x ∘ other over `count` floats from $x / $o: 4 at a time, then one at a time. */
function streamLoop(op: ElementwiseOp, layout: ElementwiseLayout, count: string): string {
  const { lanes4, lane, pointer } = operand(layout);
  const first = layout.endsWith('First');
  const instruction = (type: 'f32x4' | 'f32', x: string, y: string) =>
    first ? `(${type}.${ELEMENTWISE_OPS[op]} ${y} ${x})` : `(${type}.${ELEMENTWISE_OPS[op]} ${x} ${y})`;
  const advance = (bytes: number) => (pointer ? `(local.set ${pointer} (i32.add (local.get ${pointer}) (i32.const ${bytes})))` : '');
  return `
    (local.set $end (i32.add (local.get $o) (i32.shl ${count} (i32.const 2))))
    (local.set $end4 (i32.add (local.get $o) (i32.shl (i32.and ${count} (i32.const -4)) (i32.const 2))))
    ${whileLoop(
      'lanes4',
      '(i32.ge_u (local.get $o) (local.get $end4))',
      `(v128.store (local.get $o) ${instruction('f32x4', '(v128.load (local.get $x))', lanes4)})
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      ${advance(16)}
      (local.set $o (i32.add (local.get $o) (i32.const 16)))`,
    )}
    ${whileLoop(
      'lane',
      '(i32.ge_u (local.get $o) (local.get $end))',
      `(f32.store (local.get $o) ${instruction('f32', '(f32.load (local.get $x))', lane)})
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      ${advance(4)}
      (local.set $o (i32.add (local.get $o) (i32.const 4)))`,
    )}`;
}

function elementwiseFunction(op: ElementwiseOp, layout: ElementwiseLayout): string {
  const name = elementwiseFunctionName(op, layout);
  const locals = '(local $end i32) (local $end4 i32)';
  if (layout === 'same') {
    return `  (func (export "${name}") (param $x i32) (param $y i32) (param $o i32) (param $n i32) ${locals}${streamLoop(op, layout, '(local.get $n)')})`;
  }
  if (layout === 'scalar' || layout === 'scalarFirst') {
    return `  (func (export "${name}") (param $x i32) (param $sAt i32) (param $o i32) (param $n i32) ${locals} (local $s f32) (local $s4 v128)
    (local.set $s (f32.load (local.get $sAt)))
    (local.set $s4 (f32x4.splat (local.get $s)))${streamLoop(op, layout, '(local.get $n)')})`;
  }
  return `  (func (export "${name}") (param $x i32) (param $vector i32) (param $o i32) (param $rows i32) (param $run i32) ${locals} (local $v i32)
    ${whileLoop(
      'rows',
      '(i32.eqz (local.get $rows))',
      `(local.set $v (local.get $vector))${streamLoop(op, layout, '(local.get $run)')}
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))`,
    )})`;
}

/** The elementwise functions' text, for the pool's module (pool-module-wat.ts). */
export function elementwiseWat(): string {
  return Object.keys(ELEMENTWISE_OPS)
    .flatMap((op) => ELEMENTWISE_LAYOUTS.map((layout) => elementwiseFunction(op as ElementwiseOp, layout)))
    .join('\n');
}
