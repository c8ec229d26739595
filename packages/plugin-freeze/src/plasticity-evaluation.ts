import * as tf from '@tensorflow/tfjs-core';
import { runUnits, type Unit } from '@trainhooks/core-hooks';
import { dequantizeInt8, quantizeInt8, type QuantizedTensor } from './quantize.js';
import { spLoss } from './sp-loss.js';

/** A tensor as plain data, to cross threads (the buffer is transferred, never copied element-wise). */
export interface TensorData {
  readonly data: Float32Array;
  readonly shape: number[];
}

/** One evaluation's work, the same on the main thread and in the worker. */
export interface EvaluationInput {
  readonly probe: TensorData;
  /** The training model's weights now, in weight-list order. */
  readonly current: Float32Array[];
  /** The lagged int8 snapshot to compare with; null while the ring is filling. */
  readonly reference: QuantizedTensor[] | null;
  /** Units [fromUnit, units.length) are measured: the active ones. */
  readonly fromUnit: number;
}

export interface EvaluationOutput {
  /** The current weights, quantized: the ring's next snapshot. */
  readonly snapshot: QuantizedTensor[];
  /** SP loss per measured unit (index i is unit fromUnit + i); null when there was no reference. */
  readonly drift: number[] | null;
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
  if (!input.reference) return { snapshot, drift: null, milliseconds: performance.now() - start };

  const probe = tf.tensor(input.probe.data, input.probe.shape);
  // On the main thread the variables are the training model's: they get their exact weights back.
  const saved = options.currentIsLoaded ? weights.map((variable) => tf.clone(variable)) : null;
  const held: tf.Tensor[] = [probe];
  try {
    if (!saved) assignWeights(weights, input.current);
    const current = currentActivations(units, probe, input.fromUnit);
    held.push(...current.inputs, ...current.outputs);
    const outputsUnder = (values: Float32Array[]) => {
      assignWeights(weights, values);
      return tf.tidy(() => current.inputs.map((unitInput, offset) => units[input.fromUnit + offset]!.apply(unitInput, { training: false })));
    };
    const reference = outputsUnder(input.reference.map(dequantizeInt8));
    held.push(...reference);
    const quantized = outputsUnder(snapshot.map(dequantizeInt8));
    held.push(...quantized);
    const drift = current.outputs.map((output, offset) =>
      tf.tidy(() => Math.max(0, spLoss(output, reference[offset]!).dataSync()[0]! - spLoss(output, quantized[offset]!).dataSync()[0]!)),
    );
    return { snapshot, drift, milliseconds: performance.now() - start };
  } finally {
    if (saved) {
      weights.forEach((variable, index) => variable.assign(saved[index]!));
      tf.dispose(saved);
    }
    tf.dispose(held);
  }
}

/** Inputs and outputs of units [fromUnit, end) on `input`, in inference mode (BatchNorm statistics untouched). */
function currentActivations(units: readonly Unit[], input: tf.Tensor, fromUnit: number): { inputs: tf.Tensor[]; outputs: tf.Tensor[] } {
  return tf.tidy(() => {
    const inputs: tf.Tensor[] = [];
    const outputs: tf.Tensor[] = [];
    let activation = runUnits(units, 0, fromUnit, input, { training: false });
    for (let index = fromUnit; index < units.length; index++) {
      inputs.push(activation);
      activation = units[index]!.apply(activation, { training: false });
      outputs.push(activation);
    }
    return { inputs, outputs };
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
