import * as tf from '@tensorflow/tfjs-core';

/**
 * An optional kernel that runs one Adam update of one variable in one pass over memory (tfjs'
 * AdamOptimizer runs fourteen tensor ops, each a pass). `@trainhooks/backend` registers it for wasm and
 * cpu; where no backend has it, AdamPerVariable runs tfjs' ops. Bit-identical to those ops either way.
 *
 * Inputs: `value`, `gradient` and the slots `m`, `v` — float32, one shape. Outputs: the new value, m
 * and v.
 */
export const FUSED_ADAM_KERNEL = 'TrainhooksFusedAdam';

/** Adam's slots, in tfjs' order and under tfjs' names: the kernel's inputs after value and gradient. */
export const ADAM_SLOTS = ['m', 'v'] as const;

/** The float32 scalars tfjs' AdamOptimizer multiplies, divides and adds with (each rounded to float32). */
export interface FusedAdamAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** 1 − β₁ᵗ and 1 − β₂ᵗ: the bias corrections. */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
  epsilon: number;
  /** −learning rate. */
  negLearningRate: number;
}

/** Whether the backend in use has the fused kernel. */
export function hasFusedAdam(): boolean {
  return tf.getKernel(FUSED_ADAM_KERNEL, tf.getBackend()) !== undefined;
}
