import * as tf from '@tensorflow/tfjs-core';
import { ADAM_SLOTS, FUSED_ADAM_KERNEL, hasFusedAdam, type FusedAdamAttrs } from './fused-adam-kernel.js';
import type { VariableSlotState } from './optimizer-slots.js';
import type { GradientMap } from './step-context.js';
import { TwoSlotPerVariable, type TwoSlots } from './two-slot-per-variable.js';

/** m and v (slots a, b), and β₁ᵗ, β₂ᵗ as float32 values held in JS numbers: tfjs keeps them in scalar variables. */
interface AdamState extends TwoSlots {
  accBeta1: number;
  accBeta2: number;
}

interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * Adam with its state kept per variable — for steps that update varying subsets of variables — at
 * the cost of the shared update. One tfjs AdamOptimizer per variable would spend six scalar ops per
 * variable and step on its own bias-correction powers; here they are JS numbers rounded to float32
 * exactly as tfjs' float32 kernels round them, and variables with equal powers share one pair of
 * scalars. Every tensor op is the one tfjs' AdamOptimizer runs, in the same order, so results are
 * bit-identical to a tfjs Adam per variable (tested). Where the backend has the fused Adam kernel
 * (fused-adam-kernel.ts), each variable's update is that one pass instead, with the same arithmetic.
 */
export class AdamPerVariable extends TwoSlotPerVariable<AdamState, AdamConfig> {
  constructor(config: AdamConfig) {
    super(config, ADAM_SLOTS, 'Adam');
  }

  static fromOptimizer(optimizer: tf.Optimizer): AdamPerVariable {
    const { learningRate, beta1, beta2, epsilon } = optimizer.getConfig() as unknown as AdamConfig;
    return new AdamPerVariable({ learningRate, beta1, beta2, epsilon: epsilon ?? tf.backend().epsilon() });
  }

  protected update(gradients: GradientMap): void {
    if (hasFusedAdam()) this.applyFused(gradients);
    else this.applyWithOps(gradients);
    for (const name of Object.keys(gradients)) {
      const state = this.slots.get(name)!;
      // tfjs: accBeta.assign(mul(accBeta, beta)) — a float32 product, which fround reproduces exactly.
      state.accBeta1 = Math.fround(state.accBeta1 * Math.fround(this.config.beta1));
      state.accBeta2 = Math.fround(state.accBeta2 * Math.fround(this.config.beta2));
    }
  }

  /** One fused kernel call per variable, with the float32 scalars tfjs' ops would make. */
  private applyFused(gradients: GradientMap): void {
    const { beta1, beta2, epsilon, learningRate } = this.config;
    for (const [name, gradient] of Object.entries(gradients)) {
      const value = tf.engine().registeredVariables[name]!;
      const state = this.slotsOf(name, value);
      const attrs: FusedAdamAttrs = {
        beta1: Math.fround(beta1),
        oneMinusBeta1: Math.fround(1 - beta1),
        beta2: Math.fround(beta2),
        oneMinusBeta2: Math.fround(1 - beta2),
        oneMinusAccBeta1: Math.fround(1 - state.accBeta1),
        oneMinusAccBeta2: Math.fround(1 - state.accBeta2),
        epsilon: Math.fround(epsilon),
        negLearningRate: Math.fround(-learningRate),
      };
      tf.tidy(() => this.runFusedKernel(FUSED_ADAM_KERNEL, value, gradient, state, attrs));
    }
  }

  private applyWithOps(gradients: GradientMap): void {
    const { beta1, beta2, epsilon, learningRate } = this.config;
    const corrections = new Map<string, [tf.Scalar, tf.Scalar]>();
    try {
      for (const [name, gradient] of Object.entries(gradients)) {
        const value = tf.engine().registeredVariables[name]!;
        const state = this.slotsOf(name, value);
        const key = `${state.accBeta1}:${state.accBeta2}`;
        let pair = corrections.get(key);
        if (!pair) {
          // tfjs: sub(1, accBeta) in float32.
          pair = [tf.scalar(Math.fround(1 - state.accBeta1)), tf.scalar(Math.fround(1 - state.accBeta2))];
          corrections.set(key, pair);
        }
        const [oneMinusAccBeta1, oneMinusAccBeta2] = pair;
        // One tidy per variable: its intermediates are freed before the next variable's are made
        // (a smaller working set than one tidy over all variables, as tfjs' shared update does).
        tf.tidy(() => {
          const newFirstMoment = tf.add(tf.mul(state.a, beta1), tf.mul(gradient, 1 - beta1));
          const newSecondMoment = tf.add(tf.mul(state.b, beta2), tf.mul(tf.square(gradient), 1 - beta2));
          const biasCorrectedFirstMoment = tf.div(newFirstMoment, oneMinusAccBeta1);
          const biasCorrectedSecondMoment = tf.div(newSecondMoment, oneMinusAccBeta2);
          state.a.assign(newFirstMoment);
          state.b.assign(newSecondMoment);
          const step = tf.mul(tf.div(biasCorrectedFirstMoment, tf.add(tf.sqrt(biasCorrectedSecondMoment), epsilon)), -learningRate);
          value.assign(tf.add(step, value));
        });
      }
    } finally {
      tf.dispose([...corrections.values()].flat());
    }
  }

  protected newState(a: tf.Variable, b: tf.Variable): AdamState {
    return { a, b, iterations: 0, accBeta1: Math.fround(this.config.beta1), accBeta2: Math.fround(this.config.beta2) };
  }

  protected restoredState(a: tf.Variable, b: tf.Variable, saved: VariableSlotState): AdamState {
    const { beta1, beta2 } = this.config;
    return {
      a,
      b,
      iterations: saved.iterations,
      // tfjs' setWeights: accBeta = β^(t+1) when no running value was saved.
      accBeta1: saved.runningScalars?.accBeta1 ?? Math.fround(beta1 ** (saved.iterations + 1)),
      accBeta2: saved.runningScalars?.accBeta2 ?? Math.fround(beta2 ** (saved.iterations + 1)),
    };
  }

  protected override runningScalars(state: AdamState): Record<string, number> {
    return { accBeta1: state.accBeta1, accBeta2: state.accBeta2 };
  }
}
