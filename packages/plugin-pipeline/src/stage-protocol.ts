// The messages between the training thread and the stage workers, and between neighbouring stages.
// Every tensor travels as a TransferredTensor whose buffer is in the message's transfer list.
import type { MessagePort } from 'node:worker_threads';
import type { BackendChoice } from '@trainhooks/backend';
import type { StageOperation } from './schedule.js';
import type { TransferredTensor } from './tensor-transfer.js';

/** A variable of the model by position: unit index, then index in unit.variables (or stateVariables). */
export interface VariableSlot {
  readonly unit: number;
  readonly index: number;
  readonly state: boolean;
}

export interface SlotValue extends VariableSlot {
  readonly tensor: TransferredTensor;
}

export interface InitMessage {
  readonly type: 'init';
  readonly stage: number;
  /** model.toJSON(null, false) */
  readonly topology: object;
  readonly unitCount: number;
  readonly backend: BackendChoice;
  readonly threads: number;
  readonly workerSetup: string | null;
  /** To the previous and next stage (null at the ends). */
  readonly previous: MessagePort | null;
  readonly next: MessagePort | null;
}

/** One batch's work for one stage. */
export interface StepMessage {
  readonly type: 'step';
  readonly step: number;
  readonly from: number;
  readonly to: number;
  /** Units below this run in inference mode, outside the tape. */
  readonly frozenPrefix: number;
  readonly microBatchSizes: readonly number[];
  readonly operations: readonly StageOperation[];
  /** Variables that get gradients this step (trained units, not skipped). */
  readonly trained: readonly VariableSlot[];
  /** Send the gradient of the stage input back to the previous stage. */
  readonly inputGradient: boolean;
  /** Dense weight gradients over all micro-batches at once, after the last backward (weight-gradient-deferral.ts). */
  readonly deferWeightGradients: boolean;
  /** The stage's output is the frozen prefix's output: send it to the training thread too. */
  readonly reportFrozenOutput: boolean;
  /** Values newer than the stage's copy. */
  readonly weights: readonly SlotValue[];
  /** The first stage gets the whole batch's input; others get micro-batches from their neighbour. */
  readonly input: TransferredTensor | null;
  /** The last stage sends outputs to the training thread (and gets their gradients from it). */
  readonly last: boolean;
}

export interface OutputGradientMessage {
  readonly type: 'outputGradient';
  readonly step: number;
  readonly microBatch: number;
  readonly tensor: TransferredTensor;
}

export interface ProfileMessage {
  readonly type: 'profile';
  readonly inputShape: number[];
  readonly repeats: number;
}

export type ToStage = InitMessage | StepMessage | OutputGradientMessage | ProfileMessage | { readonly type: 'ping' };

/** Between neighbours: an activation forward, or a gradient backward. */
export interface NeighbourMessage {
  readonly type: 'activation' | 'gradient';
  readonly step: number;
  readonly microBatch: number;
  readonly tensor: TransferredTensor;
}

export interface UnitProfile {
  readonly forwardMs: number[];
  readonly backwardMs: number[];
  readonly outputBytes: number[];
  /** Bytes per ms of reading a tensor out of the backend and making one from a buffer (both ends of a move). */
  readonly copyBytesPerMs: number;
}

export interface StepDone {
  readonly type: 'done';
  readonly step: number;
  /** Summed over micro-batches. */
  readonly gradients: readonly SlotValue[];
  /** BatchNorm moving statistics of the units that trained here. */
  readonly state: readonly SlotValue[];
  /** ms spent computing (forward, backward, moving tensors), and the span from first to last operation. */
  readonly busyMs: number;
  readonly forwardMs: number;
  readonly backwardMs: number;
  /** Weight-gradient products put off to the W pass (0 without deferWeightGradients). */
  readonly deferredProducts: number;
  readonly tensorsAlive: number;
}

export type FromStage =
  | { readonly type: 'ready' }
  | { readonly type: 'pong' }
  | { readonly type: 'output' | 'frozenOutput'; readonly step: number; readonly microBatch: number; readonly tensor: TransferredTensor }
  | StepDone
  | { readonly type: 'profile'; readonly profile: UnitProfile }
  | { readonly type: 'error'; readonly message: string };
