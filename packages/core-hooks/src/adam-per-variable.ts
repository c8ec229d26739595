import * as tf from '@tensorflow/tfjs-core';
import { FUSED_ADAM_KERNEL, hasFusedAdam, type FusedAdamAttrs } from './fused-adam-kernel.js';
import type { SavedTensor, VariableSlotState } from './optimizer-slots.js';
import type { PerVariableStore } from './per-variable-store.js';
import type { GradientMap } from './step-context.js';

interface AdamSlots {
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  /** β₁ᵗ and β₂ᵗ as float32 values held in JS numbers: tfjs keeps them in scalar variables. */
  accBeta1: number;
  accBeta2: number;
  iterations: number;
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
export class AdamPerVariable implements PerVariableStore {
  private readonly slots = new Map<string, AdamSlots>();

  constructor(private readonly config: AdamConfig) {}

  static fromOptimizer(optimizer: tf.Optimizer): AdamPerVariable {
    const { learningRate, beta1, beta2, epsilon } = optimizer.getConfig() as unknown as AdamConfig;
    return new AdamPerVariable({ learningRate, beta1, beta2, epsilon: epsilon ?? tf.backend().epsilon() });
  }

  get learningRates(): number[] {
    return [this.config.learningRate];
  }

  setLearningRate(learningRate: number): void {
    this.config.learningRate = learningRate;
  }

  get variableNames(): string[] {
    return [...this.slots.keys()];
  }

  apply(gradients: GradientMap): void {
    if (hasFusedAdam()) this.applyFused(gradients);
    else this.applyWithOps(gradients);
    for (const name of Object.keys(gradients)) {
      const slots = this.slots.get(name)!;
      // tfjs: accBeta.assign(mul(accBeta, beta)) — a float32 product, which fround reproduces exactly.
      slots.accBeta1 = Math.fround(slots.accBeta1 * Math.fround(this.config.beta1));
      slots.accBeta2 = Math.fround(slots.accBeta2 * Math.fround(this.config.beta2));
      slots.iterations++;
    }
  }

  /** One fused kernel call per variable, with the float32 scalars tfjs' ops would make. */
  private applyFused(gradients: GradientMap): void {
    const { beta1, beta2, epsilon, learningRate } = this.config;
    for (const [name, gradient] of Object.entries(gradients)) {
      const value = tf.engine().registeredVariables[name]!;
      const slots = this.slotsOf(name, value);
      const attrs: FusedAdamAttrs = {
        beta1: Math.fround(beta1),
        oneMinusBeta1: Math.fround(1 - beta1),
        beta2: Math.fround(beta2),
        oneMinusBeta2: Math.fround(1 - beta2),
        oneMinusAccBeta1: Math.fround(1 - slots.accBeta1),
        oneMinusAccBeta2: Math.fround(1 - slots.accBeta2),
        epsilon: Math.fround(epsilon),
        negLearningRate: Math.fround(-learningRate),
      };
      tf.tidy(() => {
        const inputs = { value, gradient, m: slots.m, v: slots.v } as unknown as tf.NamedTensorMap;
        const [newValue, newM, newV] = tf.engine().runKernel(FUSED_ADAM_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        slots.m.assign(newM!);
        slots.v.assign(newV!);
        value.assign(newValue!);
      });
    }
  }

  private applyWithOps(gradients: GradientMap): void {
    const { beta1, beta2, epsilon, learningRate } = this.config;
    const corrections = new Map<string, [tf.Scalar, tf.Scalar]>();
    try {
      for (const [name, gradient] of Object.entries(gradients)) {
        const value = tf.engine().registeredVariables[name]!;
        const slots = this.slotsOf(name, value);
        const key = `${slots.accBeta1}:${slots.accBeta2}`;
        let pair = corrections.get(key);
        if (!pair) {
          // tfjs: sub(1, accBeta) in float32.
          pair = [tf.scalar(Math.fround(1 - slots.accBeta1)), tf.scalar(Math.fround(1 - slots.accBeta2))];
          corrections.set(key, pair);
        }
        const [oneMinusAccBeta1, oneMinusAccBeta2] = pair;
        // One tidy per variable: its intermediates are freed before the next variable's are made
        // (a smaller working set than one tidy over all variables, as tfjs' shared update does).
        tf.tidy(() => {
          const newFirstMoment = tf.add(tf.mul(slots.m, beta1), tf.mul(gradient, 1 - beta1));
          const newSecondMoment = tf.add(tf.mul(slots.v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
          const biasCorrectedFirstMoment = tf.div(newFirstMoment, oneMinusAccBeta1);
          const biasCorrectedSecondMoment = tf.div(newSecondMoment, oneMinusAccBeta2);
          slots.m.assign(newFirstMoment);
          slots.v.assign(newSecondMoment);
          const step = tf.mul(tf.div(biasCorrectedFirstMoment, tf.add(tf.sqrt(biasCorrectedSecondMoment), epsilon)), -learningRate);
          value.assign(tf.add(step, value));
        });
      }
    } finally {
      tf.dispose([...corrections.values()].flat());
    }
  }

  private slotsOf(name: string, value: tf.Variable): AdamSlots {
    let slots = this.slots.get(name);
    if (!slots) {
      slots = {
        m: tf.tidy(() => tf.zerosLike(value).variable(false)),
        v: tf.tidy(() => tf.zerosLike(value).variable(false)),
        accBeta1: Math.fround(this.config.beta1),
        accBeta2: Math.fround(this.config.beta2),
        iterations: 0,
      };
      this.slots.set(name, slots);
    }
    return slots;
  }

  /** A variable's state in the form tfjs' Adam getWeights() gives it (slots `${name}/m`, `${name}/v`). */
  async read(name: string): Promise<VariableSlotState | undefined> {
    const slots = this.slots.get(name);
    if (!slots) return undefined;
    const save = async (slot: 'm' | 'v'): Promise<SavedTensor> => ({
      name: `${name}/${slot}`,
      shape: [...slots[slot].shape],
      dtype: 'float32',
      values: (await slots[slot].data()).slice() as Float32Array,
    });
    return {
      iterations: slots.iterations,
      slots: [await save('m'), await save('v')],
      runningScalars: { accBeta1: slots.accBeta1, accBeta2: slots.accBeta2 },
    };
  }

  /** Loads a variable's state (as read() gives it, or from a tfjs Adam). */
  write(name: string, state: VariableSlotState): void {
    const [m, v] = state.slots;
    if (!m || !v || state.slots.length !== 2) throw new Error(`trainhooks: Adam state of ${name} needs two slots (m, v), got ${state.slots.length}`);
    this.release(name);
    const { beta1, beta2 } = this.config;
    this.slots.set(name, {
      m: tf.variable(tf.tensor(m.values, m.shape, 'float32'), false),
      v: tf.variable(tf.tensor(v.values, v.shape, 'float32'), false),
      // tfjs' setWeights: accBeta = β^(t+1) when no running value was saved.
      accBeta1: state.runningScalars?.accBeta1 ?? Math.fround(beta1 ** (state.iterations + 1)),
      accBeta2: state.runningScalars?.accBeta2 ?? Math.fround(beta2 ** (state.iterations + 1)),
      iterations: state.iterations,
    });
  }

  private release(name: string): void {
    const slots = this.slots.get(name);
    if (slots) tf.dispose([slots.m, slots.v]);
    this.slots.delete(name);
  }

  dispose(): void {
    for (const name of [...this.slots.keys()]) this.release(name);
  }
}
