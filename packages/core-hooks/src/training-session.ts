// What fit and fitDataset share: the host interface to the trainer, History, epoch averages, and the
// callbacks around epochs and batches in tfjs' order.
import type * as tf from '@tensorflow/tfjs-core';
import { checkSamples, fail, type DeclaredShapes } from './argument-checks.js';
import { CallbackList, type CallbackParams, type FitCallbacks } from './callbacks.js';
import type { FitPosition } from './fit-position.js';
import type { Batch } from './step-context.js';

/** What LayersModel.fit resolves to. */
export interface TrainHistory {
  epoch: number[];
  history: Record<string, number[]>;
  params: CallbackParams;
}

/** What the fit loops need from the trainer; private to the trainer and its loops. */
export interface FitHost {
  /** What tf.Callback instances see as `this.model` (the LayersModel, or the trainer itself). */
  readonly callbackModel: unknown;
  /** 'loss' then the metric names, as tfjs' getDedupedMetricsNames. */
  readonly metricNames: string[];
  readonly declaredShapes: DeclaredShapes | null;
  shouldStop(): boolean;
  resetStop(): void;
  /** Refuses a second concurrent fit; returns the function that ends this one. */
  beginTraining(): () => void;
  beginEpoch(epoch: number): Promise<void>;
  endEpoch(epoch: number, logs: Record<string, number>): Promise<void>;
  step(batch: Batch): Promise<Record<string, number>>;
  /** The position a restored trainer resumes from, once: the first fit after a restore takes it. */
  takeResumePosition(): FitPosition | null;
  /** Where the fit stands after each step (what a checkpoint saves). */
  recordPosition(position: FitPosition): void;
  evaluate(x: tf.Tensor, y: tf.Tensor, batchSize: number): Promise<Record<string, number>>;
}

/** Options of model.fit/fitDataset the loops refuse, and why. */
export const UNSUPPORTED_OPTIONS = {
  sampleWeight: 'per-sample loss weights are not implemented',
  classWeight: 'class weights are not implemented',
  stepsPerEpoch: 'tfjs-layers does not implement it either',
  validationSteps: 'tfjs-layers does not implement it either',
  validationBatches: 'validation from a Dataset is not implemented; pass validationData as [x, y] tensors',
  yieldEvery: 'the trainer gives the event loop a turn every ~100 ms by itself',
};


/** Batch-size-weighted means of the metric values of the steps, as tfjs' BaseLogger. */
export class EpochAverages {
  private readonly sums = new Map<string, number>();
  private samples = 0;

  constructor(private readonly names: readonly string[]) {}

  add(logs: Record<string, number>, size: number): void {
    for (const name of this.names) {
      if (logs[name] !== undefined) this.sums.set(name, (this.sums.get(name) ?? 0) + logs[name] * size);
    }
    this.samples += size;
  }

  /** Adds the means to `logs` (after the val_ entries, in tfjs' key order). */
  addTo(logs: Record<string, number>): Record<string, number> {
    for (const [name, sum] of this.sums) logs[name] = sum / this.samples;
    return logs;
  }
}

class HistoryRecorder implements TrainHistory {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  constructor(readonly params: CallbackParams) {}

  record(epoch: number, logs: Record<string, number>): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) (this.history[key] ??= []).push(value);
  }
}

/** Callbacks, history and verbose printing around a loop's epochs, in tfjs' order. */
export class TrainingSession {
  readonly callbacks: CallbackList;
  readonly history: HistoryRecorder;

  constructor(
    private readonly host: FitHost,
    callbacks: FitCallbacks | FitCallbacks[] | undefined,
    readonly params: CallbackParams,
  ) {
    this.callbacks = new CallbackList(callbacks, host.callbackModel, params);
    this.history = new HistoryRecorder(params);
  }

  /** One batch with its callbacks; `afterStep` runs between the step and onBatchEnd. */
  async runBatch(batchIndex: number, batch: Batch, averages: EpochAverages, afterStep?: () => void): Promise<void> {
    const size = batch.x.shape[0]!;
    await this.callbacks.call('onBatchBegin', batchIndex, { batch: batchIndex, size });
    const logs = await this.host.step(batch);
    afterStep?.();
    averages.add(logs, size);
    await this.callbacks.call('onBatchEnd', batchIndex, { batch: batchIndex, size, ...logs });
  }

  async endEpoch(epoch: number, logs: Record<string, number>): Promise<void> {
    await this.host.endEpoch(epoch, logs);
    await this.callbacks.call('onEpochEnd', epoch, logs);
    this.history.record(epoch, logs);
    if (this.params.verbose > 0) {
      const text = Object.entries(logs).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ');
      console.log(`epoch ${epoch + 1}/${this.params.epochs}: ${text}`);
    }
  }

  /** tfjs' params.metrics: the logged names, and their val_ twins when the loop validates. */
  static metricNames(host: FitHost, doValidation: boolean): string[] {
    return doValidation ? [...host.metricNames, ...host.metricNames.map((name) => `val_${name}`)] : [...host.metricNames];
  }

  async validate(validationData: [tf.Tensor, tf.Tensor] | undefined, batchSize: number): Promise<Record<string, number>> {
    if (!validationData) return {};
    const values = await this.host.evaluate(validationData[0], validationData[1], batchSize);
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [`val_${key}`, value]));
  }
}

export function checkValidationData(value: unknown, declared: DeclaredShapes | null): [tf.Tensor, tf.Tensor] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== 2) {
    fail('validationData', value, '[x, y] (validation from a Dataset or with sample weights is not supported)');
  }
  checkSamples(['validationData[0]', 'validationData[1]'], value[0], value[1], declared);
  return value as [tf.Tensor, tf.Tensor];
}

