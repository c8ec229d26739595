import * as tf from '@tensorflow/tfjs-core';

/**
 * An optional kernel that runs one (not centered) RMSProp update of one variable in one pass over
 * memory, where tfjs' RMSPropOptimizer runs nine tensor ops:
 *   ms' = ms·ρ + (g·g)·(1−ρ)      mom' = mom·μ + (g·lr) / √(ms' + ε)      w' = w − mom'
 * `@trainhooks/backend` registers it for wasm and cpu; RmsPropPerVariable runs tfjs' ops where no
 * backend has it. Bit-identical to those ops either way.
 *
 * Inputs: `value`, `gradient` and the slots `rms` (the mean square), `momentum` — float32, one shape.
 * Outputs: the new value, rms and momentum.
 */
export const FUSED_RMSPROP_KERNEL = 'TrainhooksFusedRmsProp';

/** RMSProp's slots (not centered), in tfjs' order and under tfjs' names: the kernel's inputs after value and gradient. */
export const RMSPROP_SLOTS = ['rms', 'momentum'] as const;

/** The float32 scalars tfjs' RMSPropOptimizer multiplies, divides and adds with (each rounded to float32). */
export interface FusedRmsPropAttrs {
  decay: number;
  oneMinusDecay: number;
  momentum: number;
  learningRate: number;
  epsilon: number;
}

/** Whether the backend in use has the fused kernel. */
export function hasFusedRmsProp(): boolean {
  return tf.getKernel(FUSED_RMSPROP_KERNEL, tf.getBackend()) !== undefined;
}
