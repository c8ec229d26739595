import type * as tf from '@tensorflow/tfjs-core';

/** Options every unit understands when it runs. */
export interface UnitApplyOptions {
  /** false: BatchNorm uses its moving statistics and leaves them alone, Dropout is off. */
  training: boolean;
}

/**
 * One freezable, cacheable, partitionable block of a model: a layer with weights plus the weightless
 * layers after it (Sequential), a segment between single-tensor cuts (functional), or a hand-declared
 * block (raw-variable models).
 */
export interface Unit {
  readonly name: string;
  /** Variables the optimizer updates (trainable weights). */
  readonly variables: readonly tf.Variable[];
  /** Variables the unit owns but no optimizer touches (BatchNorm moving statistics). */
  readonly stateVariables?: readonly tf.Variable[];
  /**
   * Forward FLOPs per sample of its conv and dense layers (its weight gradient costs about as much):
   * what skipping its work saves, for plugins that weigh that against what deciding costs. Known for
   * units of a tfjs-layers model; absent for hand-declared ones.
   */
  readonly forwardFlops?: number;
  apply(input: tf.Tensor, options: UnitApplyOptions): tf.Tensor;
  /** Regularisation penalties of this unit's weights (added to the loss when the unit trains). */
  regularizationLosses?(): tf.Scalar[];
}

/** A model described only by its units: the mnist-core style of raw `tf.variable` models. */
export interface UnitModel {
  readonly units: readonly Unit[];
}

export function isUnitModel(model: unknown): model is UnitModel {
  return (
    typeof model === 'object' &&
    model !== null &&
    Array.isArray((model as { units?: unknown }).units) &&
    !('layers' in model)
  );
}

/** Runs units [from, to) on `input`; returns `input` itself when the range is empty. */
export function runUnits(
  units: readonly Unit[],
  from: number,
  to: number,
  input: tf.Tensor,
  options: UnitApplyOptions,
): tf.Tensor {
  let activation = input;
  for (let index = from; index < to; index++) activation = units[index]!.apply(activation, options);
  return activation;
}

/** One weight of a unit and where it sits: the unit's `index`-th variable, or its `index`-th state variable. */
export interface UnitWeight {
  readonly unit: number;
  readonly index: number;
  /** A state variable (BatchNorm moving statistics): the model's, but no optimizer's. */
  readonly state: boolean;
  readonly variable: tf.Variable;
}

/**
 * Everything that makes up the model's state, unit by unit: each unit's trainable variables, then its
 * state variables — what a copy of the model (another rank, a stage thread, a snapshot) must hold.
 */
export function unitWeights(units: readonly Unit[]): UnitWeight[] {
  return units.flatMap((unit, index) => [
    ...unit.variables.map((variable, i) => ({ unit: index, index: i, state: false, variable })),
    ...(unit.stateVariables ?? []).map((variable, i) => ({ unit: index, index: i, state: true, variable })),
  ]);
}
