import * as tf from '@tensorflow/tfjs-core';
import { runUnits, type Unit } from '@trainhooks/core-hooks';
import { dequantizeInt8, quantizeInt8, type QuantizedTensor } from './quantize.js';
import { outputKind, predictionDistance, toProbabilities } from '@trainhooks/core-hooks/internal';
import { spLoss } from './sp-loss.js';

/** A tensor as plain data, to cross threads (the buffer is transferred, never copied element-wise). */
export interface TensorData {
  readonly data: Float32Array;
  readonly shape: number[];
}

/** One evaluation's work, the same on the main thread and in the worker. */
export interface EvaluationInput {
  readonly probe: TensorData;
  /** The probe's targets (one row of class probabilities per sample), when known. */
  readonly probeLabels?: TensorData | null;
  /** The training model's weights now, in weight-list order. */
  readonly current: Float32Array[];
  /** The lagged int8 snapshot to compare with; null while the ring is filling. */
  readonly reference: QuantizedTensor[] | null;
  /**
   * The snapshot twice as old as `reference`, when the ring reaches that far: each unit's effect is
   * also measured against it (`farEffect`, one more forward of the rest of the model per unit).
   */
  readonly farReference?: QuantizedTensor[] | null;
  /** Units [fromUnit, toUnit) are measured: active units that may freeze. */
  readonly fromUnit: number;
  /** End of the measured units (exclusive); default every unit after fromUnit. */
  readonly toUnit?: number;
  /** Measure each unit's output effect (criterion 'output-effect'): 2 forwards of the rest of the model per unit. */
  readonly measureEffect?: boolean;
  /** Measure each unit's drift (SP loss; criterion 'drift-trend'): 3 Gram matrices of its activations per unit. Default true. */
  readonly measureDrift?: boolean;
}

export interface EvaluationOutput {
  /** The current weights, quantized: the ring's next snapshot. */
  readonly snapshot: QuantizedTensor[];
  /** SP loss per measured unit (index i is unit fromUnit + i); null when there was no reference or drift was not asked for. */
  readonly drift: number[] | null;
  /** Output effect per measured unit (output-effect.ts), same indexing; null when there was no reference. */
  readonly effect: number[] | null;
  /** Output effect per measured unit against `farReference`, same indexing; null without one. */
  readonly farEffect: number[] | null;
  /**
   * With probe labels: per measured unit, how much the probe's cross-entropy rises when that unit alone
   * is put back to the reference (floor-corrected like effect, signed); null otherwise.
   */
  readonly lossEffect: number[] | null;
  /** With probe labels: the probe's cross-entropy now and with every measured unit at the reference. */
  readonly probeLoss: { now: number; atReference: number } | null;
  /** Time spent, for the report. */
  readonly milliseconds: number;
}

/**
 * Quantizes `current` and, given a reference, measures each active unit's drift. On the same input —
 * the activation that enters the unit in the current fp32 model, so a unit's drift is its own weights'
 * doing, not that of the units before it — its output under the current weights is compared (SP loss)
 * with its output under the int8 reference and under the int8 copy of the current weights:
 *
 *   drift = max(0, SP(current, int8 reference) − SP(current, int8 current))
 *
 * The second term is the quantization floor: weights that did not move give zero drift. (Comparing
 * int8 with int8 instead would cancel the floor too, but re-rounding a whole channel whenever its
 * largest weight moves makes that series jump by an order of magnitude between evaluations.)
 */
export function evaluatePlasticity(
  units: readonly Unit[],
  weights: readonly tf.Variable[],
  input: EvaluationInput,
  options: { currentIsLoaded: boolean },
): EvaluationOutput {
  const start = performance.now();
  checkShapes(weights, input.current);
  const snapshot = input.current.map((data, index) => quantizeInt8(data, weights[index]!.shape));
  const toUnit = Math.min(input.toUnit ?? units.length, units.length);
  if (!input.reference || toUnit <= input.fromUnit) return { snapshot, drift: null, effect: null, farEffect: null, lossEffect: null, probeLoss: null, milliseconds: performance.now() - start };

  const probe = tf.tensor(input.probe.data, input.probe.shape);
  // On the main thread the variables are the training model's: they get their exact weights back.
  const saved = options.currentIsLoaded ? weights.map((variable) => tf.clone(variable)) : null;
  const held: tf.Tensor[] = [probe];
  try {
    if (!saved) assignWeights(weights, input.current);
    const current = currentActivations(units, probe, input.fromUnit, toUnit);
    held.push(...current.inputs, ...current.outputs, current.prediction);
    const referenceValues = input.reference.map(dequantizeInt8);
    const quantizedValues = snapshot.map(dequantizeInt8);
    const labels = input.probeLabels ? tf.tensor(input.probeLabels.data, input.probeLabels.shape) : null;
    if (labels) held.push(labels);
    const farValues = input.measureEffect && input.farReference ? input.farReference.map(dequantizeInt8) : null;
    const values = { now: input.current, reference: referenceValues, far: farValues, quantized: quantizedValues };
    const { effect, farEffect, lossEffect, probeLoss } = input.measureEffect
      ? outputEffects(units, weights, current, input.fromUnit, labels, values)
      : { effect: null, farEffect: null, lossEffect: null, probeLoss: null };
    const drift = input.measureDrift === false ? null : unitDrift(units, weights, current, input.fromUnit, { reference: referenceValues, quantized: quantizedValues });
    return { snapshot, drift, effect, farEffect, lossEffect, probeLoss, milliseconds: performance.now() - start };
  } finally {
    if (saved) {
      weights.forEach((variable, index) => variable.assign(saved[index]!));
      tf.dispose(saved);
    }
    tf.dispose(held);
  }
}

interface CurrentActivations {
  /** What enters each measured unit, and what it gives, with the current weights. */
  readonly inputs: tf.Tensor[];
  readonly outputs: tf.Tensor[];
  /** The model's output on the probe now. */
  readonly prediction: tf.Tensor;
}

/** Each measured unit's drift: its output on the same input under the reference and the int8 current weights, against now (SP loss). */
function unitDrift(
  units: readonly Unit[],
  weights: readonly tf.Variable[],
  current: CurrentActivations,
  fromUnit: number,
  values: { reference: Float32Array[]; quantized: Float32Array[] },
): number[] {
  const held: tf.Tensor[] = [];
  try {
    const outputsUnder = (source: Float32Array[]) => {
      assignWeights(weights, source);
      const outputs = tf.tidy(() => current.inputs.map((unitInput, offset) => units[fromUnit + offset]!.apply(unitInput, { training: false })));
      held.push(...outputs);
      return outputs;
    };
    const reference = outputsUnder(values.reference);
    const quantized = outputsUnder(values.quantized);
    return current.inputs.map((_, offset) =>
      tf.tidy(() => Math.max(0, spLoss(current.outputs[offset]!, reference[offset]!).dataSync()[0]! - spLoss(current.outputs[offset]!, quantized[offset]!).dataSync()[0]!)),
    );
  } finally {
    tf.dispose(held);
  }
}

/**
 * Each active unit's output effect (output-effect.ts): the model's predictions with that unit alone at
 * its reference weights (and at the far reference, when given), and alone at its int8 current weights,
 * against the predictions now. Runs with the current weights loaded and leaves them loaded.
 */
function outputEffects(
  units: readonly Unit[],
  weights: readonly tf.Variable[],
  current: CurrentActivations,
  fromUnit: number,
  labels: tf.Tensor | null,
  values: { now: readonly Float32Array[]; reference: readonly Float32Array[]; far: readonly Float32Array[] | null; quantized: readonly Float32Array[] },
): { effect: number[]; farEffect: number[] | null; lossEffect: number[] | null; probeLoss: { now: number; atReference: number } | null } {
  const position = new Map(weights.map((variable, index) => [variable, index]));
  const kind = outputKind(current.prediction);
  // The loss diagnostic reads class distributions: logits through softmax, the rest as they are.
  const asPredictions = (output: tf.Tensor) => tf.tidy(() => (kind === 'logits' ? toProbabilities(output) : (tf.reshape(output, [output.shape[0]!, -1]) as tf.Tensor2D)));
  const predictions = asPredictions(current.prediction);
  const distanceKind = kind === 'logits' ? 'distribution' : kind;
  const loss = (p: tf.Tensor2D) => (labels && kind !== 'unbounded' ? crossEntropy(p, labels, kind === 'bernoulli') : Number.NaN);
  const lossNow = loss(predictions);
  const lossEffect: number[] = [];
  const farEffect: number[] = [];
  const activeIndices: number[] = [];
  try {
    const effect = current.inputs.map((unitInput, offset) => {
      const unit = units[fromUnit + offset]!;
      const indices = [...unit.variables, ...(unit.stateVariables ?? [])].map((variable) => position.get(variable)).filter((index) => index !== undefined);
      activeIndices.push(...indices);
      if (indices.length === 0) {
        lossEffect.push(0);
        farEffect.push(0);
        return 0;
      }
      const predictUnder = (source: readonly Float32Array[]) => {
        assignSome(weights, indices, source);
        return tf.tidy(() => asPredictions(runUnits(units, fromUnit + offset, units.length, unitInput, { training: false })));
      };
      const atReference = predictUnder(values.reference);
      const atQuantized = predictUnder(values.quantized);
      const atFar = values.far ? predictUnder(values.far) : null;
      assignSome(weights, indices, values.now);
      // The int8 floor: what rounding alone moves, so weights that did not move give zero.
      const floor = predictionDistance(predictions, atQuantized, distanceKind);
      const effect = Math.max(0, predictionDistance(predictions, atReference, distanceKind) - floor);
      if (atFar) farEffect.push(Math.max(0, predictionDistance(predictions, atFar, distanceKind) - floor));
      lossEffect.push(loss(atReference) - loss(atQuantized));
      tf.dispose([atReference, atQuantized, ...(atFar ? [atFar] : [])]);
      return effect;
    });
    let probeLoss: { now: number; atReference: number } | null = null;
    if (labels && current.inputs.length > 0) {
      assignSome(weights, activeIndices, values.reference);
      const atReference = tf.tidy(() => asPredictions(runUnits(units, fromUnit, units.length, current.inputs[0]!, { training: false })));
      assignSome(weights, activeIndices, values.now);
      probeLoss = { now: lossNow, atReference: loss(atReference) };
      atReference.dispose();
    }
    return { effect, farEffect: values.far ? farEffect : null, lossEffect: labels ? lossEffect : null, probeLoss };
  } finally {
    predictions.dispose();
  }
}

/** Mean cross-entropy against target rows: categorical for distributions, binary per column for sigmoid outputs. */
function crossEntropy(predictions: tf.Tensor2D, labels: tf.Tensor, binary: boolean): number {
  return tf.tidy(() => {
    const targets = tf.reshape(labels, predictions.shape);
    const p = tf.clipByValue(predictions, 1e-7, 1 - 1e-7);
    const perEntry = binary ? tf.add(tf.mul(targets, tf.log(p)), tf.mul(tf.sub(1, targets), tf.log(tf.sub(1, p)))) : tf.mul(targets, tf.log(p));
    const perSample = binary ? tf.mean(perEntry, 1) : tf.sum(perEntry, 1);
    return tf.neg(tf.mean(perSample)).dataSync()[0]!;
  });
}

function assignSome(weights: readonly tf.Variable[], indices: readonly number[], values: readonly Float32Array[]): void {
  tf.tidy(() => indices.forEach((index) => weights[index]!.assign(tf.tensor(values[index]!, weights[index]!.shape, weights[index]!.dtype))));
}

/**
 * Inputs and outputs of units [fromUnit, toUnit) on `input`, and the model's prediction, in inference
 * mode (BatchNorm statistics untouched).
 */
function currentActivations(units: readonly Unit[], input: tf.Tensor, fromUnit: number, toUnit: number): CurrentActivations {
  return tf.tidy(() => {
    const inputs: tf.Tensor[] = [];
    const outputs: tf.Tensor[] = [];
    let activation = runUnits(units, 0, fromUnit, input, { training: false });
    for (let index = fromUnit; index < toUnit; index++) {
      inputs.push(activation);
      activation = units[index]!.apply(activation, { training: false });
      outputs.push(activation);
    }
    const prediction = runUnits(units, toUnit, units.length, activation, { training: false });
    return { inputs, outputs, prediction };
  });
}

function assignWeights(weights: readonly tf.Variable[], values: readonly Float32Array[]): void {
  tf.tidy(() => weights.forEach((variable, index) => variable.assign(tf.tensor(values[index]!, variable.shape, variable.dtype))));
}

function checkShapes(weights: readonly tf.Variable[], values: readonly Float32Array[]): void {
  if (weights.length !== values.length) throw new Error(`plugin-freeze: ${values.length} weight arrays for a model with ${weights.length} weights`);
  weights.forEach((variable, index) => {
    if (variable.size !== values[index]!.length) {
      throw new Error(`plugin-freeze: weight ${index} (${variable.name}) has ${variable.size} values, the snapshot ${values[index]!.length}`);
    }
  });
}
