// The loop of the module's fused optimizer updates (fused-adam-wat.ts, fused-rmsprop-wat.ts): one pass
// over a variable w, its gradient g and its two slots a and b, writing the new w, a and b to fresh
// buffers, four lanes at a time and then one. Each optimizer gives the arithmetic of one element; its
// float32 scalars come in a parameter block (the ninth argument), read once and splatted.

import { whileLoop } from './wat-loops.js';

/** The scalars of an update, in parameter-block order. */
export type FusedParams = readonly string[];

/**
 * One element's update in `type`: `at(pointer)` loads an input ($w, $g, $a, $b), `param(name)` is a
 * scalar, `set(local, value)` keeps a value in the locals $x, $y, $z, `get(local)` reads one back, and
 * `store(pointer, value)` writes an output ($ow, $oa, $ob).
 */
export interface UpdateBuilder {
  at(pointer: '$w' | '$g' | '$a' | '$b'): string;
  param(name: string): string;
  set(local: '$x' | '$y' | '$z', value: string): string;
  get(local: '$x' | '$y' | '$z'): string;
  store(pointer: '$ow' | '$oa' | '$ob', value: string): string;
  /** The instruction prefix: f32x4 or f32. */
  readonly type: 'f32x4' | 'f32';
}

function builder(type: 'f32x4' | 'f32'): UpdateBuilder {
  const [load, store] = type === 'f32x4' ? ['v128.load', 'v128.store'] : ['f32.load', 'f32.store'];
  const suffix = type === 'f32x4' ? '4' : '';
  return {
    type,
    at: (pointer) => `(${load} (local.get ${pointer}))`,
    param: (name) => `(local.get $${name}${suffix})`,
    set: (local, value) => `(local.set ${local}${suffix} ${value})`,
    get: (local) => `(local.get ${local}${suffix})`,
    store: (pointer, value) => `(${store} (local.get ${pointer}) ${value})`,
  };
}

const POINTERS = ['$w', '$g', '$a', '$b', '$ow', '$oa', '$ob'];

/** Moves every pointer on by `bytes`. */
function advance(bytes: number): string {
  return POINTERS.map((p) => `(local.set ${p} (i32.add (local.get ${p}) (i32.const ${bytes})))`).join('\n      ');
}

/** The exported function `name`(w, g, a, b, ow, oa, ob, n, params) over n elements. */
export function fusedUpdateFunction(name: string, params: FusedParams, update: (b: UpdateBuilder) => string): string {
  const scalarLocals = params.map((param) => `(local $${param} f32) (local $${param}4 v128)`).join(' ');
  const readParams = params
    .map((param, i) => `(local.set $${param} (f32.load offset=${4 * i} (local.get $p)))\n    (local.set $${param}4 (f32x4.splat (local.get $${param})))`)
    .join('\n    ');
  return `  (func (export "${name}") ${POINTERS.map((p) => `(param ${p} i32)`).join(' ')} (param $n i32) (param $p i32)
    ${scalarLocals}
    (local $end i32) (local $end4 i32) (local $x4 v128) (local $y4 v128) (local $z4 v128) (local $x f32) (local $y f32) (local $z f32)
    ${readParams}
    (local.set $end (i32.add (local.get $ow) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $ow) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    ${whileLoop('lanes4', '(i32.ge_u (local.get $ow) (local.get $end4))', `${update(builder('f32x4'))}
      ${advance(16)}`)}
    ${whileLoop('lane', '(i32.ge_u (local.get $ow) (local.get $end))', `${update(builder('f32'))}
      ${advance(4)}`)})`;
}
