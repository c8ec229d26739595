// The text of the module's fused RMSProp update, not centered (the loop: fused-optimizer-wat.ts),
// a = the mean square (tfjs' `rms` slot), b = the momentum. The float32 operations of tfjs'
// RMSPropOptimizer in its order, so the results are bit-identical to its nine tensor ops:
//   ms' = ms·ρ + (g·g)·(1−ρ)      mom' = mom·μ + (g·lr) / √(ms' + ε)      w' = w − mom'
import { fusedUpdateFunction } from './fused-optimizer-wat.js';

export const FUSED_RMSPROP_FUNCTION = 'fused_rmsprop';

/** The float32 parameter block the function reads (its ninth argument points to it), in this order. */
export const FUSED_RMSPROP_PARAMS = ['decay', 'oneMinusDecay', 'momentum', 'learningRate', 'epsilon'] as const;

export function fusedRmsPropWat(): string {
  return fusedUpdateFunction(FUSED_RMSPROP_FUNCTION, FUSED_RMSPROP_PARAMS, ({ type, at, param, set, get, store }) => {
    const op = (name: string, x: string, y: string) => `(${type}.${name} ${x} ${y})`;
    return [
      set('$x', at('$g')),
      set('$y', op('add', op('mul', at('$a'), param('decay')), op('mul', op('mul', get('$x'), get('$x')), param('oneMinusDecay')))),
      set('$z', op('add', op('mul', at('$b'), param('momentum')), op('div', op('mul', get('$x'), param('learningRate')), `(${type}.sqrt ${op('add', get('$y'), param('epsilon'))})`))),
      store('$oa', get('$y')),
      store('$ob', get('$z')),
      store('$ow', op('sub', at('$w'), get('$z'))),
    ].join('\n      ');
  });
}
