// The fused optimizer updates in JavaScript, for the cpu backend and for wasm without its kernel pool.
// Each operation is rounded to float32 (Math.fround; the last by the Float32Array store) in tfjs' order:
// a float32 +, −, ×, ÷ or √ computed in double and rounded once is the correctly rounded float32
// result, so these equal tfjs' ops bit for bit (core-hooks' fused-*-kernel.ts have the formulas).
import { ADAM_SLOTS, FUSED_ADAM_KERNEL, FUSED_RMSPROP_KERNEL, RMSPROP_SLOTS, type FusedAdamAttrs, type FusedRmsPropAttrs } from '@trainhooks/core-hooks/internal';

/** A variable, its gradient and its two slots (Adam: m, v; RMSProp: mean square, momentum), and the new three. */
export interface FusedArrays {
  readonly value: Float32Array;
  readonly gradient: Float32Array;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly newValue: Float32Array;
  readonly newA: Float32Array;
  readonly newB: Float32Array;
}

const f = Math.fround;

export function adamLoop({ value, gradient, a: m, b: v, newValue, newA: newM, newB: newV }: FusedArrays, s: FusedAdamAttrs): void {
  for (let i = 0; i < value.length; i++) {
    const g = gradient[i]!;
    const mi = f(f(m[i]! * s.beta1) + f(g * s.oneMinusBeta1));
    const vi = f(f(v[i]! * s.beta2) + f(f(g * g) * s.oneMinusBeta2));
    newM[i] = mi;
    newV[i] = vi;
    const denominator = f(f(Math.sqrt(f(vi / s.oneMinusAccBeta2))) + s.epsilon);
    newValue[i] = f(f(f(mi / s.oneMinusAccBeta1) / denominator) * s.negLearningRate) + value[i]!;
  }
}

export function rmsPropLoop({ value, gradient, a: ms, b: mom, newValue, newA: newMs, newB: newMom }: FusedArrays, s: FusedRmsPropAttrs): void {
  for (let i = 0; i < value.length; i++) {
    const g = gradient[i]!;
    const msi = f(f(ms[i]! * s.decay) + f(f(g * g) * s.oneMinusDecay));
    const momi = f(f(mom[i]! * s.momentum) + f(f(g * s.learningRate) / f(Math.sqrt(f(msi + s.epsilon)))));
    newMs[i] = msi;
    newMom[i] = momi;
    newValue[i] = value[i]! - momi;
  }
}

/** A fused update as both backends register it: core-hooks' kernel name, its slot inputs, its loop. */
export interface FusedUpdate {
  readonly kernelName: string;
  /** The kernel's inputs after value and gradient. */
  readonly slots: readonly [string, string];
  readonly loop: (arrays: FusedArrays, scalars: never) => void;
}

export const FUSED_ADAM: FusedUpdate = { kernelName: FUSED_ADAM_KERNEL, slots: ADAM_SLOTS, loop: adamLoop as FusedUpdate['loop'] };
export const FUSED_RMSPROP: FusedUpdate = { kernelName: FUSED_RMSPROP_KERNEL, slots: RMSPROP_SLOTS, loop: rmsPropLoop as FusedUpdate['loop'] };
