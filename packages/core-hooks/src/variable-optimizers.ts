import * as tf from '@tensorflow/tfjs-core';
import type { GradientMap } from './step-context.js';

type OptimizerClass = {
  new (...args: never[]): tf.Optimizer;
  fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tf.Optimizer;
};

/**
 * Optimizer state kept per variable. tfjs optimizers key their slots by position in the list given to
 * `applyGradients` (tfjs#4290), so updating a different subset on different steps would mix slots
 * between variables. One clone of the template optimizer per variable makes every variable's slots
 * (and Adam's bias-correction powers) its own: a variable skipped this step keeps weights and slots
 * bit-identical, and resumes exactly where it stopped.
 */
export class VariableOptimizers {
  private readonly byVariable = new Map<string, tf.Optimizer>();
  private learningRate: number;

  constructor(private readonly template: tf.Optimizer) {
    this.learningRate = readLearningRate(template);
  }

  get currentLearningRate(): number {
    return this.learningRate;
  }

  /** Applies each gradient with its own variable's optimizer. */
  apply(gradients: GradientMap): void {
    for (const [name, gradient] of Object.entries(gradients)) {
      this.forVariable(name).applyGradients({ [name]: gradient });
    }
  }

  forVariable(name: string): tf.Optimizer {
    let optimizer = this.byVariable.get(name);
    if (!optimizer) {
      optimizer = cloneOptimizer(this.template);
      setLearningRate(optimizer, this.learningRate);
      this.byVariable.set(name, optimizer);
    }
    return optimizer;
  }

  /** The slot tensors of one variable's optimizer (empty before its first update). */
  async slots(name: string): ReturnType<tf.Optimizer['getWeights']> {
    const optimizer = this.byVariable.get(name);
    return optimizer ? optimizer.getWeights() : [];
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
    setLearningRate(this.template, learningRate);
    for (const optimizer of this.byVariable.values()) setLearningRate(optimizer, learningRate);
  }

  dispose(): void {
    for (const optimizer of this.byVariable.values()) optimizer.dispose();
    this.byVariable.clear();
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

function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  // SGD and Momentum cache -lr in a scalar; the others read the field on every update.
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(learningRate);
  else withSetter.learningRate = learningRate;
}
