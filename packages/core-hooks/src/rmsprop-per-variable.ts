import * as tf from '@tensorflow/tfjs-core';
import { FUSED_RMSPROP_KERNEL, hasFusedRmsProp, RMSPROP_SLOTS, type FusedRmsPropAttrs } from './fused-rmsprop-kernel.js';
import type { VariableSlotState } from './optimizer-slots.js';
import type { GradientMap } from './step-context.js';
import { TwoSlotPerVariable, type TwoSlots } from './two-slot-per-variable.js';

interface RmsPropConfig {
  learningRate: number;
  decay: number;
  momentum: number;
  epsilon: number;
}

/**
 * RMSProp (not centered) with its state kept per variable, in tfjs' layout (slots `rms`, `momentum`).
 * Where the backend has the fused RMSProp kernel (fused-rmsprop-kernel.ts) each variable's update is
 * one pass; otherwise the nine tensor ops tfjs' RMSPropOptimizer runs, in its order. Bit-identical to
 * a tfjs RMSProp per variable either way (tested), and so to the shared one: RMSProp's arithmetic reads
 * nothing that depends on which variables a step updates.
 */
export class RmsPropPerVariable extends TwoSlotPerVariable<TwoSlots, RmsPropConfig> {
  constructor(config: RmsPropConfig) {
    super(config, RMSPROP_SLOTS, 'RMSProp');
  }

  /** The store for a tfjs RMSPropOptimizer's configuration; null when it is centered (not supported here). */
  static fromOptimizer(optimizer: tf.Optimizer): RmsPropPerVariable | null {
    const { learningRate, decay, momentum, epsilon, centered } = optimizer.getConfig() as unknown as RmsPropConfig & { centered: boolean };
    if (centered) return null;
    return new RmsPropPerVariable({ learningRate, decay, momentum, epsilon: epsilon ?? tf.backend().epsilon() });
  }

  protected update(gradients: GradientMap): void {
    const fused = hasFusedRmsProp();
    const { learningRate, decay, momentum, epsilon } = this.config;
    const attrs: FusedRmsPropAttrs = {
      decay: Math.fround(decay),
      oneMinusDecay: Math.fround(1 - decay),
      momentum: Math.fround(momentum),
      learningRate: Math.fround(learningRate),
      epsilon: Math.fround(epsilon),
    };
    for (const [name, gradient] of Object.entries(gradients)) {
      const value = tf.engine().registeredVariables[name]!;
      const state = this.slotsOf(name, value);
      // One tidy per variable: its intermediates are freed before the next variable's are made.
      tf.tidy(() => {
        if (fused) {
          this.runFusedKernel(FUSED_RMSPROP_KERNEL, value, gradient, state, attrs);
          return;
        }
        const newMeanSquare = tf.add(tf.mul(state.a, decay), tf.mul(tf.square(gradient), 1 - decay));
        const newMoment = tf.add(tf.mul(state.b, momentum), tf.div(tf.mul(gradient, learningRate), tf.sqrt(tf.add(newMeanSquare, epsilon))));
        state.a.assign(newMeanSquare);
        state.b.assign(newMoment);
        value.assign(tf.sub(value, newMoment));
      });
    }
  }

  protected newState(a: tf.Variable, b: tf.Variable): TwoSlots {
    return { a, b, iterations: 0 };
  }

  protected restoredState(a: tf.Variable, b: tf.Variable, saved: VariableSlotState): TwoSlots {
    return { a, b, iterations: saved.iterations };
  }
}
