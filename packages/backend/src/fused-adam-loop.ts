// The fused Adam update in JavaScript, for the cpu backend and for wasm without its kernel pool. Each
// operation is rounded to float32 (Math.fround; the last by the Float32Array store) in tfjs' order:
// a float32 +, ×, ÷ or √ computed in double and rounded once is the correctly rounded float32 result,
// so this equals tfjs' ops bit for bit (fused-adam-kernel.ts in core-hooks has the formula).
import type { FusedAdamAttrs } from '@trainhooks/core-hooks';

export interface FusedAdamArrays {
  readonly value: Float32Array;
  readonly gradient: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly newValue: Float32Array;
  readonly newM: Float32Array;
  readonly newV: Float32Array;
}

export function fusedAdamLoop({ value, gradient, m, v, newValue, newM, newV }: FusedAdamArrays, a: FusedAdamAttrs): void {
  const f = Math.fround;
  for (let i = 0; i < value.length; i++) {
    const g = gradient[i]!;
    const mi = f(f(m[i]! * a.beta1) + f(g * a.oneMinusBeta1));
    const vi = f(f(v[i]! * a.beta2) + f(f(g * g) * a.oneMinusBeta2));
    newM[i] = mi;
    newV[i] = vi;
    const denominator = f(f(Math.sqrt(f(vi / a.oneMinusAccBeta2))) + a.epsilon);
    newValue[i] = f(f(f(mi / a.oneMinusAccBeta1) / denominator) * a.negLearningRate) + value[i]!;
  }
}
