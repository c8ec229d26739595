import * as tf from '@tensorflow/tfjs-core';
import type { SavedTensor, VariableSlotState } from './optimizer-slots.js';
import type { PerVariableStore } from './per-variable-store.js';
import type { GradientMap } from './step-context.js';

/** A variable's two optimizer slots (Adam: m, v; RMSProp: rms, momentum) and its update count. */
export interface TwoSlots {
  readonly a: tf.Variable;
  readonly b: tf.Variable;
  iterations: number;
}

/**
 * Optimizer state per variable for optimizers with two slots per variable, kept in tfjs' layout (slots
 * `${variable}/${slot}`, in tfjs' slot order), so that state moves between this store, tfjs'
 * optimizers and checkpoints unchanged. Subclasses do the update and add what else a variable keeps.
 */
export abstract class TwoSlotPerVariable<S extends TwoSlots, C extends { learningRate: number }> implements PerVariableStore {
  protected readonly slots = new Map<string, S>();

  constructor(
    protected readonly config: C,
    private readonly slotNames: readonly [string, string],
    private readonly optimizerName: string,
  ) {}

  get learningRates(): number[] {
    return [this.config.learningRate];
  }

  setLearningRate(learningRate: number): void {
    this.config.learningRate = learningRate;
  }

  /** Updates the given variables (state is made on first use by `slotsOf`). */
  protected abstract update(gradients: GradientMap): void;
  /** A new variable's state around its zero-filled slots. */
  protected abstract newState(a: tf.Variable, b: tf.Variable): S;
  /** A variable's state loaded from `saved` around its restored slots. */
  protected abstract restoredState(a: tf.Variable, b: tf.Variable, saved: VariableSlotState): S;
  /** Running scalars to save beside the slots (none by default). */
  protected runningScalars(_state: S): Record<string, number> | undefined {
    return undefined;
  }

  get variableNames(): string[] {
    return [...this.slots.keys()];
  }

  apply(gradients: GradientMap): void {
    this.update(gradients);
    for (const name of Object.keys(gradients)) this.slots.get(name)!.iterations++;
  }

  /**
   * One fused kernel call (fused-adam-kernel.ts, fused-rmsprop-kernel.ts): inputs value, gradient and
   * the two slots under their slot names; its three outputs become the new value and slots. Call
   * inside a tidy.
   */
  protected runFusedKernel(kernelName: string, value: tf.Variable, gradient: tf.Tensor, state: S, attrs: object): void {
    const inputs = { value, gradient, [this.slotNames[0]]: state.a, [this.slotNames[1]]: state.b } as unknown as tf.NamedTensorMap;
    const [newValue, newA, newB] = tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor[];
    state.a.assign(newA!);
    state.b.assign(newB!);
    value.assign(newValue!);
  }

  protected slotsOf(name: string, value: tf.Variable): S {
    let state = this.slots.get(name);
    if (!state) {
      const zeros = () => tf.tidy(() => tf.zerosLike(value).variable(false));
      state = this.newState(zeros(), zeros());
      this.slots.set(name, state);
    }
    return state;
  }

  /** A variable's state in the form tfjs' optimizer's getWeights() gives it. */
  async read(name: string): Promise<VariableSlotState | undefined> {
    const state = this.slots.get(name);
    if (!state) return undefined;
    const save = async (slot: tf.Variable, slotName: string): Promise<SavedTensor> => ({
      name: `${name}/${slotName}`,
      shape: [...slot.shape],
      dtype: 'float32',
      values: (await slot.data()).slice() as Float32Array,
    });
    const runningScalars = this.runningScalars(state);
    return {
      iterations: state.iterations,
      slots: [await save(state.a, this.slotNames[0]), await save(state.b, this.slotNames[1])],
      ...(runningScalars ? { runningScalars } : {}),
    };
  }

  /** Loads a variable's state (as read() gives it, or from the tfjs optimizer). */
  write(name: string, state: VariableSlotState): void {
    const [a, b] = state.slots;
    if (!a || !b || state.slots.length !== 2) {
      throw new Error(`trainhooks: ${this.optimizerName} state of ${name} needs two slots (${this.slotNames.join(', ')}), got ${state.slots.length}`);
    }
    this.release(name);
    const restore = (saved: SavedTensor) => tf.tidy(() => tf.variable(tf.tensor(saved.values, saved.shape, 'float32'), false));
    this.slots.set(name, this.restoredState(restore(a), restore(b), state));
  }

  private release(name: string): void {
    const state = this.slots.get(name);
    if (state) tf.dispose([state.a, state.b]);
    this.slots.delete(name);
  }

  dispose(): void {
    for (const name of [...this.slots.keys()]) this.release(name);
  }
}
