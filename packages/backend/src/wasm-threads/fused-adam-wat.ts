// The text of the module's fused Adam update (the loop: fused-optimizer-wat.ts), a = m, b = v. Every
// lane does the float32 operations tfjs' AdamOptimizer does, in its order (IEEE float32, correctly
// rounded, no fused multiply-add), so the results are bit-identical to its fourteen tensor ops:
//   m' = m·β₁ + g·(1−β₁)          v' = v·β₂ + (g·g)·(1−β₂)
//   w' = ((m' / (1−β₁ᵗ)) / (√(v' / (1−β₂ᵗ)) + ε))·(−lr) + w
import { fusedUpdateFunction } from './fused-optimizer-wat.js';

export const FUSED_ADAM_FUNCTION = 'fused_adam';

/** The float32 parameter block the function reads (its ninth argument points to it), in this order. */
export const FUSED_ADAM_PARAMS = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'oneMinusAccBeta1', 'oneMinusAccBeta2', 'epsilon', 'negLearningRate'] as const;

export function fusedAdamWat(): string {
  return fusedUpdateFunction(FUSED_ADAM_FUNCTION, FUSED_ADAM_PARAMS, ({ type, at, param, set, get, store }) => {
    const op = (name: string, x: string, y: string) => `(${type}.${name} ${x} ${y})`;
    return [
      set('$x', at('$g')),
      set('$y', op('add', op('mul', at('$a'), param('beta1')), op('mul', get('$x'), param('oneMinusBeta1')))),
      set('$z', op('add', op('mul', at('$b'), param('beta2')), op('mul', op('mul', get('$x'), get('$x')), param('oneMinusBeta2')))),
      store('$oa', get('$y')),
      store('$ob', get('$z')),
      store(
        '$ow',
        op(
          'add',
          op(
            'mul',
            op('div', op('div', get('$y'), param('oneMinusAccBeta1')), op('add', `(${type}.sqrt ${op('div', get('$z'), param('oneMinusAccBeta2'))})`, param('epsilon'))),
            param('negLearningRate'),
          ),
          at('$w'),
        ),
      ),
    ].join('\n      ');
  });
}
