import type * as tf from '@tensorflow/tfjs-core';
import { AdamPerVariable } from './adam-per-variable.js';
import { RmsPropPerVariable } from './rmsprop-per-variable.js';
import { readSlotsByVariable, writeSlots, type VariableSlotState } from './optimizer-slots.js';
import type { GradientMap } from './step-context.js';

/** Optimizer state kept per variable, so each step may update any subset. */
export interface PerVariableStore {
  readonly learningRates: number[];
  readonly variableNames: string[];
  apply(gradients: GradientMap): void;
  read(name: string): Promise<VariableSlotState | undefined>;
  write(name: string, state: VariableSlotState): void | Promise<void>;
  setLearningRate(learningRate: number): void;
  dispose(): void;
}

/** Any tfjs optimizer: one clone per variable (its own slots and counters). */
export class ClonePerVariable implements PerVariableStore {
  private readonly byVariable = new Map<string, tf.Optimizer>();

  constructor(private readonly newOptimizer: () => tf.Optimizer) {}

  get learningRates(): number[] {
    return [...this.byVariable.values()].map((optimizer) => (optimizer as unknown as { learningRate: number }).learningRate);
  }

  get variableNames(): string[] {
    return [...this.byVariable.keys()];
  }

  apply(gradients: GradientMap): void {
    for (const [name, gradient] of Object.entries(gradients)) this.forVariable(name).applyGradients({ [name]: gradient });
  }

  async read(name: string): Promise<VariableSlotState | undefined> {
    const optimizer = this.byVariable.get(name);
    return optimizer ? (await readSlotsByVariable(optimizer, [name])).get(name) : undefined;
  }

  async write(name: string, state: VariableSlotState): Promise<void> {
    await writeSlots(this.forVariable(name), [name], new Map([[name, state]]));
  }

  setLearningRate(learningRate: number): void {
    for (const optimizer of this.byVariable.values()) setLearningRate(optimizer, learningRate);
  }

  private forVariable(name: string): tf.Optimizer {
    let optimizer = this.byVariable.get(name);
    if (!optimizer) {
      optimizer = this.newOptimizer();
      this.byVariable.set(name, optimizer);
    }
    return optimizer;
  }

  dispose(): void {
    for (const optimizer of this.byVariable.values()) optimizer.dispose();
    this.byVariable.clear();
  }
}

/**
 * Whether per-variable state costs no more than one shared optimizer for this optimizer class: then
 * the trainer keeps it per variable from the first step — with the same arithmetic, so a baseline and a
 * pruned run update alike. Adam (AdamPerVariable: its bias corrections as JS numbers) and RMSProp not
 * centered (RmsPropPerVariable); with @trainhooks/backend both are one fused pass per variable
 * (BENCHMARKS.md, `npm run bench -- prune-update`).
 */
export function perVariableFromTheStart(template: tf.Optimizer): boolean {
  const name = template.getClassName();
  return name === 'Adam' || (name === 'RMSProp' && !(template.getConfig() as { centered?: boolean }).centered);
}

/** Adam and RMSProp get their own stores (fused with @trainhooks/backend); every other optimizer, clones. */
export function perVariableStore(template: tf.Optimizer, newOptimizer: () => tf.Optimizer): PerVariableStore {
  if (!perVariableFromTheStart(template)) return new ClonePerVariable(newOptimizer);
  const configured = newOptimizer();
  try {
    return template.getClassName() === 'Adam' ? AdamPerVariable.fromOptimizer(configured) : RmsPropPerVariable.fromOptimizer(configured)!;
  } finally {
    configured.dispose();
  }
}

export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  // SGD and Momentum cache -lr in a scalar; the others read the field on every update.
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(learningRate);
  else withSetter.learningRate = learningRate;
}
