import type * as tf from '@tensorflow/tfjs-core';
import { readSlotsByVariable, writeSlots, type VariableSlotState } from './optimizer-slots.js';
import { perVariableFromTheStart, perVariableStore, setLearningRate, type PerVariableStore } from './per-variable-store.js';
import type { GradientMap } from './step-context.js';

type OptimizerClass = {
  new (...args: never[]): tf.Optimizer;
  fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tf.Optimizer;
};

/**
 * Optimizer state of every variable, for checkpoints (`exportState` / `importState`). Variables are
 * identified by position in the trainer's variable list, not by name: tfjs names variables from
 * process-wide counters, so the same model built again gets other names.
 */
export interface OptimizerState {
  readonly className: string;
  readonly learningRate: number;
  /** The exporting trainer's variable names (for messages); the state below is aligned with them. */
  readonly variableNames: string[];
  /** Each variable's state (slots named by slot only, e.g. 'm'), or null if it was never updated. */
  readonly variables: Array<VariableSlotState | null>;
  /** Positions of the variables one shared optimizer serves, in its slot order; null once per variable. */
  readonly sharedVariables: number[] | null;
}

/**
 * Optimizer state kept per variable. tfjs optimizers key their slots by position in the list given to
 * `applyGradients` (tfjs#4290), so updating a different subset on different steps would mix slots
 * between variables. One clone of the template optimizer per variable makes every variable's slots
 * (and Adam's bias-correction powers) its own: a variable skipped this step keeps weights and slots
 * bit-identical, and resumes exactly where it stopped.
 *
 * Adam and (not centered) RMSProp keep their state per variable from the first step, in stores of
 * their own (Adam's holds the bias corrections as JS numbers): the arithmetic of tfjs' optimizers, bit for
 * bit, at (or, fused by @trainhooks/backend, far under) the cost of their shared update. For other
 * optimizers, while every step updates the same set of variables one shared clone serves them all (the
 * same arithmetic as model.fit); the first step that updates a different set splits its state,
 * exactly, into one clone per variable.
 *
 * State the template already holds (the compiled model's optimizer after a `model.fit`) is taken over
 * at the first update, so `trainer.fit` continues where `model.fit` stopped.
 */
export class VariableOptimizers {
  private perVariable: PerVariableStore | null = null;
  private learningRate: number;
  private shared: tf.Optimizer | null = null;
  /** Variables the shared optimizer updates, in its slot order; null before the first update. */
  private sharedNames: string[] | null = null;
  private split: boolean;
  /** Whether state is per variable from the start (Adam, RMSProp), not only after a partial update. */
  private readonly startsSplit: boolean;
  /** State to start from, taken from the template or a checkpoint, applied at the next update. */
  private pending: Map<string, VariableSlotState> | null = null;
  private templateRead = false;

  constructor(private readonly template: tf.Optimizer) {
    this.learningRate = readLearningRate(template);
    this.startsSplit = perVariableFromTheStart(template);
    this.split = this.startsSplit;
  }

  get currentLearningRate(): number {
    return this.learningRate;
  }

  /**
   * The rate the template optimizer holds now. It differs from `currentLearningRate` when someone set
   * it the tfjs way (`model.optimizer.learningRate = …`, e.g. from a callback) since the last step.
   */
  get templateLearningRate(): number {
    return readLearningRate(this.template);
  }

  /** True while one tfjs optimizer serves all variables (not Adam or RMSProp; no step has updated a different set yet). */
  get isShared(): boolean {
    return !this.split;
  }

  get className(): string {
    return this.template.getClassName();
  }

  /** Applies each gradient with its own variable's optimizer state. */
  async apply(gradients: GradientMap): Promise<void> {
    const names = Object.keys(gradients);
    if (names.length === 0) return;
    if (!this.templateRead) await this.takeOverTemplateState();
    if (this.pending) await this.startFrom(this.pending, names);
    if (!this.split) {
      this.sharedNames ??= names;
      if (sameMembers(names, this.sharedNames)) {
        this.shared ??= this.newOptimizer();
        // Always the same order: the shared optimizer's slots are keyed by position.
        this.shared.applyGradients(Object.fromEntries(this.sharedNames.map((name) => [name, gradients[name]!])));
        return;
      }
      await this.splitShared();
    }
    this.store().apply(gradients);
  }

  /** The per-variable state, created on first use. */
  private store(): PerVariableStore {
    this.perVariable ??= perVariableStore(this.template, () => this.newOptimizer());
    return this.perVariable;
  }

  private async takeOverTemplateState(): Promise<void> {
    this.templateRead = true;
    if (this.shared || this.perVariable || this.pending) return;
    const states = await readSlotsByVariable(this.template);
    if (states.size > 0) this.pending = states;
  }

  /** Loads saved state: shared when it covers exactly this update's variables with one count, else per variable. */
  private async startFrom(states: Map<string, VariableSlotState>, names: string[]): Promise<void> {
    this.pending = null;
    const counts = new Set([...states.values()].map((state) => state.iterations));
    if (!this.split && counts.size === 1 && sameMembers([...states.keys()], names)) {
      this.shared = this.newOptimizer();
      this.sharedNames = names;
      await writeSlots(this.shared, names, states);
      return;
    }
    this.split = true;
    for (const [name, state] of states) await this.store().write(name, state);
  }

  /** Moves the shared optimizer's state into one clone per variable. */
  private async splitShared(): Promise<void> {
    this.split = true;
    const shared = this.shared;
    if (!shared) return;
    const states = await readSlotsByVariable(shared, this.sharedNames ?? []);
    for (const [name, state] of states) await this.store().write(name, state);
    shared.dispose();
    this.shared = null;
  }

  private newOptimizer(): tf.Optimizer {
    const optimizer = cloneOptimizer(this.template);
    setLearningRate(optimizer, this.learningRate);
    return optimizer;
  }

  /** Every variable's state (iterations and slots); variables never updated have none. */
  async stateByVariable(): Promise<Map<string, VariableSlotState>> {
    if (this.pending) return new Map(this.pending);
    if (!this.templateRead && !this.shared && !this.perVariable) return readSlotsByVariable(this.template);
    if (this.shared) return readSlotsByVariable(this.shared, this.sharedNames ?? []);
    const states = new Map<string, VariableSlotState>();
    for (const name of this.perVariable?.variableNames ?? []) {
      const state = await this.perVariable!.read(name);
      if (state) states.set(name, state);
    }
    return states;
  }

  /** A checkpoint of all optimizer state (plain arrays, no tensors), for `variables` in trainer order. */
  async exportState(variables: readonly tf.Variable[]): Promise<OptimizerState> {
    const states = await this.stateByVariable();
    const names = variables.map((variable) => variable.name);
    const position = new Map(names.map((name, index) => [name, index]));
    const relative = (name: string, state: VariableSlotState): VariableSlotState => ({
      ...state,
      slots: state.slots.map((slot) => ({ ...slot, name: slot.name.slice(name.length + 1) })),
    });
    return {
      className: this.className,
      learningRate: this.learningRate,
      variableNames: names,
      variables: names.map((name) => (states.has(name) ? relative(name, states.get(name)!) : null)),
      sharedVariables: this.shared ? this.sharedNames!.map((name) => position.get(name)!) : null,
    };
  }

  /**
   * Restores a checkpoint into these `variables` (trainer order, same shapes as when exported): the
   * next update continues exactly where the exported trainer stopped.
   */
  importState(state: OptimizerState, variables: readonly tf.Variable[]): void {
    if (state?.className !== this.className) {
      throw new Error(`trainhooks: optimizer state of a ${String(state?.className)} cannot be loaded into a ${this.className}`);
    }
    if (state.variables.length !== variables.length) {
      throw new Error(`trainhooks: the optimizer state is for ${state.variables.length} variables, this trainer has ${variables.length}`);
    }
    const pending = new Map<string, VariableSlotState>();
    state.variables.forEach((saved, index) => {
      if (!saved) return;
      const variable = variables[index]!;
      for (const slot of saved.slots) {
        if (slot.shape.join(',') !== variable.shape.join(',')) {
          throw new Error(
            `trainhooks: optimizer slot ${slot.name} of ${state.variableNames[index]} has shape [${slot.shape}], ` +
              `but variable ${variable.name} has shape [${variable.shape}]`,
          );
        }
      }
      pending.set(variable.name, { ...saved, slots: saved.slots.map((slot) => ({ ...slot, name: `${variable.name}/${slot.name}` })) });
    });
    this.disposeState();
    this.templateRead = true;
    this.setLearningRate(state.learningRate);
    this.split = this.startsSplit || (state.sharedVariables === null && pending.size > 0);
    this.pending = pending;
  }

  /**
   * Writes the state into another optimizer (the model's own), in tfjs' layout for `names` — what
   * `model.fit` and `model.save({ includeOptimizer })` then use. Exact when every variable has state
   * and, for Adam/Adamax, the same update count; otherwise it throws and changes nothing.
   */
  async writeInto(target: tf.Optimizer, names: readonly string[]): Promise<void> {
    if (target.getClassName() !== this.className) {
      throw new Error(`trainhooks: cannot write ${this.className} state into a ${target.getClassName()}`);
    }
    await writeSlots(target, names, await this.stateByVariable());
  }

  /** One variable's optimizer state (iterations, slots), or undefined before its first update. */
  async variableState(name: string): Promise<VariableSlotState | undefined> {
    return (await this.stateByVariable()).get(name);
  }

  /** The learning rate every live optimizer holds (all equal: for tests and diagnostics). */
  get learningRates(): number[] {
    return [this.template, this.shared].flatMap((o) => (o ? [readLearningRate(o)] : [])).concat(this.perVariable?.learningRates ?? []);
  }

  setLearningRate(learningRate: number): void {
    if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate < 0) {
      throw new Error(`trainhooks: learningRate must be a finite number ≥ 0, got ${String(learningRate)}`);
    }
    this.learningRate = learningRate;
    setLearningRate(this.template, learningRate);
    this.perVariable?.setLearningRate(learningRate);
    if (this.shared) setLearningRate(this.shared, learningRate);
  }

  private disposeState(): void {
    this.perVariable?.dispose();
    this.perVariable = null;
    this.shared?.dispose();
    this.shared = null;
    this.sharedNames = null;
    this.split = this.startsSplit;
    this.pending = null;
  }

  dispose(): void {
    this.disposeState();
  }
}

export function cloneOptimizer(optimizer: tf.Optimizer): tf.Optimizer {
  const cls = optimizer.constructor as unknown as OptimizerClass;
  return cls.fromConfig(cls, optimizer.getConfig());
}

function readLearningRate(optimizer: tf.Optimizer): number {
  const value = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof value !== 'number') {
    throw new Error(`trainhooks: cannot read the learning rate of ${optimizer.getClassName()}`);
  }
  return value;
}

function sameMembers(names: readonly string[], expected: readonly string[]): boolean {
  if (names.length !== expected.length) return false;
  const set = new Set(expected);
  return names.every((name) => set.has(name));
}
