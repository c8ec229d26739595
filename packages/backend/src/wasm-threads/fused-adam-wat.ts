// The text of the module's fused Adam update: one pass over a variable, its gradient and its two
// moments, writing the new variable and moments — where tfjs' AdamOptimizer runs fourteen tensor ops,
// each a pass over memory. Every lane does the float32 operations tfjs does, in its order (IEEE float32,
// correctly rounded, no fused multiply-add), so the results are bit-identical to it:
//   m' = m·β₁ + g·(1−β₁)          v' = v·β₂ + (g·g)·(1−β₂)
//   w' = ((m' / (1−β₁ᵗ)) / (√(v' / (1−β₂ᵗ)) + ε))·(−lr) + w

export const FUSED_ADAM_FUNCTION = 'fused_adam';

/** The float32 parameter block the function reads (its ninth argument points to it), in this order. */
export const FUSED_ADAM_PARAMS = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'oneMinusAccBeta1', 'oneMinusAccBeta2', 'epsilon', 'negLearningRate'] as const;

/** One element's update in `type` (f32x4 or f32), reading and writing through the pointers' `load` / `store`. */
function update(type: 'f32x4' | 'f32', load: string, store: string, param: (name: (typeof FUSED_ADAM_PARAMS)[number]) => string): string {
  const at = (pointer: string) => `(${load} (local.get ${pointer}))`;
  return `(local.set $${type}_g ${at('$g')})
      (local.set $${type}_m (${type}.add (${type}.mul ${at('$m')} ${param('beta1')}) (${type}.mul (local.get $${type}_g) ${param('oneMinusBeta1')})))
      (local.set $${type}_v (${type}.add (${type}.mul ${at('$v')} ${param('beta2')})
        (${type}.mul (${type}.mul (local.get $${type}_g) (local.get $${type}_g)) ${param('oneMinusBeta2')})))
      (${store} (local.get $om) (local.get $${type}_m))
      (${store} (local.get $ov) (local.get $${type}_v))
      (${store} (local.get $ow)
        (${type}.add
          (${type}.mul
            (${type}.div (${type}.div (local.get $${type}_m) ${param('oneMinusAccBeta1')})
              (${type}.add (${type}.sqrt (${type}.div (local.get $${type}_v) ${param('oneMinusAccBeta2')})) ${param('epsilon')}))
            ${param('negLearningRate')})
          ${at('$w')}))`;
}

/** Moves every pointer on by `bytes`. */
function advance(bytes: number): string {
  return ['$w', '$g', '$m', '$v', '$ow', '$om', '$ov'].map((p) => `(local.set ${p} (i32.add (local.get ${p}) (i32.const ${bytes})))`).join('\n      ');
}

export function fusedAdamWat(): string {
  const scalarLocals = FUSED_ADAM_PARAMS.map((name) => `(local $${name} f32) (local $${name}4 v128)`).join(' ');
  const readParams = FUSED_ADAM_PARAMS.map(
    (name, i) => `(local.set $${name} (f32.load offset=${4 * i} (local.get $p)))
    (local.set $${name}4 (f32x4.splat (local.get $${name})))`,
  ).join('\n    ');
  return `  (func (export "${FUSED_ADAM_FUNCTION}") (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $ow i32) (param $om i32) (param $ov i32) (param $n i32) (param $p i32)
    ${scalarLocals}
    (local $end i32) (local $end4 i32)
    (local $f32x4_g v128) (local $f32x4_m v128) (local $f32x4_v v128) (local $f32_g f32) (local $f32_m f32) (local $f32_v f32)
    ${readParams}
    (local.set $end (i32.add (local.get $ow) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $ow) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4 (loop $loop4
      (br_if $done4 (i32.ge_u (local.get $ow) (local.get $end4)))
      ${update('f32x4', 'v128.load', 'v128.store', (name) => `(local.get $${name}4)`)}
      ${advance(16)}
      (br $loop4)))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $ow) (local.get $end)))
      ${update('f32', 'f32.load', 'f32.store', (name) => `(local.get $${name})`)}
      ${advance(4)}
      (br $loop))))`;
}
