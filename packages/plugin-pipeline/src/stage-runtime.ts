// What a stage worker does with one batch: its operations in schedule order, each waiting only for
// the tensor it needs (an input from the previous stage, a gradient from the next), gradients summed
// over micro-batches, then one answer to the training thread. Nothing here knows about threads: it
// talks through the `links` it is given, so it can be tested in one thread.
import * as tf from '@tensorflow/tfjs-core';
import { runUnits, type Unit } from '@trainhooks/core-hooks';
import { backwardOfRecorded, discardForward, recordForward, type RecordedForward } from './deferred-tape.js';
import { Mailbox } from './mailbox.js';
import { WeightGradientDeferral } from './weight-gradient-deferral.js';
import { microBatchOffsets } from './schedule.js';
import type { SlotValue, StepDone, StepMessage, VariableSlot } from './stage-protocol.js';
import { fromTransfer, toTransfer, type TransferredTensor } from './tensor-transfer.js';

export interface StageLinks {
  /** To the next stage (activations) or, from the last stage, to the training thread (outputs). */
  sendActivation(step: number, microBatch: number, tensor: TransferredTensor): void;
  /** To the previous stage (the gradient of this stage's input). */
  sendInputGradient(step: number, microBatch: number, tensor: TransferredTensor): void;
  sendFrozenOutput(step: number, microBatch: number, tensor: TransferredTensor): void;
}

/** What a forward left for its backward. */
interface PendingBackward {
  readonly recorded: RecordedForward;
  readonly inputId: number;
}

export class StageRuntime {
  /** Activations from the previous stage, output gradients from the next (or the training thread). */
  readonly inbox = new Mailbox<TransferredTensor>();

  constructor(readonly units: readonly Unit[]) {}

  variableOf(slot: VariableSlot): tf.Variable {
    const unit = this.units[slot.unit];
    const variable = (slot.state ? unit?.stateVariables : unit?.variables)?.[slot.index];
    if (!variable) throw new Error(`plugin-pipeline: the stage's model has no ${slot.state ? 'state ' : ''}variable ${slot.index} in unit ${slot.unit}`);
    return variable;
  }

  loadWeights(values: readonly SlotValue[]): void {
    for (const value of values) {
      const variable = this.variableOf(value);
      tf.tidy(() => variable.assign(fromTransfer(value.tensor)));
    }
  }

  async runStep(message: StepMessage, links: StageLinks): Promise<StepDone> {
    this.loadWeights(message.weights);
    const { step, from, to, frozenPrefix, microBatchSizes } = message;
    const firstTrained = Math.max(from, frozenPrefix);
    const trainedVariables = message.trained.map((slot) => this.variableOf(slot));
    const sums: Array<tf.Tensor | null> = trainedVariables.map(() => null);
    const addToSum = (i: number, gradient: tf.Tensor): void => {
      const sum = sums[i];
      sums[i] = sum ? tf.tidy(() => tf.add(sum, gradient)) : gradient;
      if (sum) tf.dispose([sum, gradient]);
    };
    const deferral = message.deferWeightGradients ? new WeightGradientDeferral(new Set(trainedVariables.map((variable) => variable.id))) : undefined;
    const pending = new Map<number, PendingBackward>();
    const offsets = microBatchOffsets(microBatchSizes);
    let forwardMs = 0;
    let backwardMs = 0;

    const inputOf = async (m: number): Promise<tf.Tensor> => {
      if (!message.input) return fromTransfer(await this.inbox.take(`activation:${step}:${m}`));
      const { values, shape, dtype } = message.input;
      const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
      const rows = values.subarray(offsets[m]! * rowSize, (offsets[m]! + microBatchSizes[m]!) * rowSize);
      return tf.tensor(rows, [microBatchSizes[m]!, ...shape.slice(1)], dtype);
    };

    const forward = async (m: number): Promise<void> => {
      const input = await inputOf(m);
      const began = performance.now();
      // The frozen units of this stage: inference mode, outside the tape.
      const frozenOutput = firstTrained > from ? tf.tidy(() => runUnits(this.units, from, Math.min(firstTrained, to), input, { training: false })) : input;
      if (message.reportFrozenOutput) links.sendFrozenOutput(step, m, toTransfer(frozenOutput));
      let output = frozenOutput;
      if (firstTrained < to) {
        const recorded = recordForward(() => runUnits(this.units, firstTrained, to, frozenOutput, { training: true }));
        pending.set(m, { recorded, inputId: frozenOutput.id });
        output = recorded.output;
      }
      links.sendActivation(step, m, toTransfer(output));
      // The tape keeps what backward needs; the tensors themselves can go.
      tf.dispose([...new Set([input, frozenOutput, output])]);
      forwardMs += performance.now() - began;
    };

    const backward = async (m: number): Promise<void> => {
      const outputGradient = fromTransfer(await this.inbox.take(`gradient:${step}:${m}`));
      const began = performance.now();
      const { recorded, inputId } = pending.get(m)!;
      pending.delete(m);
      const sources = message.inputGradient ? [...trainedVariables, { id: inputId }] : trainedVariables;
      const gradients = backwardOfRecorded(recorded, sources, outputGradient, deferral);
      outputGradient.dispose();
      trainedVariables.forEach((_, i) => {
        const gradient = gradients[i];
        if (gradient) addToSum(i, gradient);
      });
      if (message.inputGradient) {
        const inputGradient = gradients[trainedVariables.length];
        if (!inputGradient) throw new Error('plugin-pipeline: the stage input does not reach its output');
        links.sendInputGradient(step, m, toTransfer(inputGradient));
        inputGradient.dispose();
      }
      backwardMs += performance.now() - began;
    };

    try {
      for (const operation of message.operations) {
        if (operation.kind === 'forward') await forward(operation.microBatch);
        else await backward(operation.microBatch);
      }
      if (deferral) {
        // The W pass, after the last backward: one product per variable over every micro-batch's rows,
        // in micro-batch order (the full batch's own product, and the same whatever the timing).
        const began = performance.now();
        const late = deferral.compute();
        trainedVariables.forEach((variable, i) => {
          const gradient = late.get(variable.id);
          if (gradient) addToSum(i, gradient);
        });
        backwardMs += performance.now() - began;
      }
      const gradients: SlotValue[] = [];
      message.trained.forEach((slot, i) => {
        const sum = sums[i];
        if (sum) gradients.push({ ...slot, tensor: toTransfer(sum) });
      });
      const state: SlotValue[] = [];
      for (let unit = firstTrained; unit < to; unit++) {
        this.units[unit]!.stateVariables?.forEach((variable, index) => state.push({ unit, index, state: true, tensor: toTransfer(variable) }));
      }
      return { type: 'done', step, gradients, state, busyMs: forwardMs + backwardMs, forwardMs, backwardMs, deferredProducts: deferral?.deferredProducts ?? 0, tensorsAlive: 0 };
    } finally {
      tf.dispose(sums.filter((sum): sum is tf.Tensor => sum !== null));
      deferral?.dispose();
      for (const { recorded } of pending.values()) {
        discardForward(recorded);
        recorded.output.dispose();
      }
      this.inbox.dropWhere((key) => Number(key.split(':')[1]) <= step);
    }
  }
}
