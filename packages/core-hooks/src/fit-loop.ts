import * as tf from '@tensorflow/tfjs-core';
import {
  checkBoolean,
  checkCallbacks,
  checkKnownOptions,
  checkNonNegativeInteger,
  checkPositiveInteger,
  checkSamples,
  checkVerbose,
  fail,
  type DeclaredShapes,
} from './argument-checks.js';
import { CallbackList, type CallbackParams, type FitCallbacks } from './callbacks.js';
import type { Batch } from './step-context.js';

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the sample order every epoch (default true, as LayersModel.fit). */
  shuffle?: boolean;
  /** Hold out the LAST fraction of x/y (before shuffling) for validation, as tfjs does. */
  validationSplit?: number;
  validationData?: [tf.Tensor, tf.Tensor];
  callbacks?: FitCallbacks | FitCallbacks[];
  /** 0 silent (default), 1 one line per epoch. */
  verbose?: 0 | 1;
  initialEpoch?: number;
  /** Stable sample id of each row of x (default: the row index); per-sample caches key on it. */
  sampleIds?: Int32Array;
}

export interface FitDatasetOptions {
  epochs: number;
  batchesPerEpoch?: number;
  validationData?: [tf.Tensor, tf.Tensor];
  /** Batch size of the validation pass (default 32, as tfjs). */
  validationBatchSize?: number;
  callbacks?: FitCallbacks | FitCallbacks[];
  verbose?: 0 | 1;
  initialEpoch?: number;
}

/** What LayersModel.fit resolves to. */
export interface TrainHistory {
  epoch: number[];
  history: Record<string, number[]>;
  params: CallbackParams;
}

/** A tfjs-data Dataset or anything with the same async iterator protocol. */
export type DatasetElement =
  | { xs: tf.Tensor; ys: tf.Tensor; ids?: Int32Array }
  | [tf.Tensor, tf.Tensor];
export interface DatasetLike {
  iterator(): Promise<{ next(): Promise<IteratorResult<DatasetElement>> }>;
  readonly size?: number | null;
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
  evaluate(x: tf.Tensor, y: tf.Tensor, batchSize: number): Promise<Record<string, number>>;
}

const DEFAULT_BATCH_SIZE = 32;
const DEFAULT_VALIDATION_BATCH_SIZE = 32;

const FIT_OPTIONS = ['epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'callbacks', 'verbose', 'initialEpoch', 'sampleIds'];
const FIT_DATASET_OPTIONS = ['epochs', 'batchesPerEpoch', 'validationData', 'validationBatchSize', 'callbacks', 'verbose', 'initialEpoch'];
const UNSUPPORTED = {
  sampleWeight: 'per-sample loss weights are not implemented',
  classWeight: 'class weights are not implemented',
  stepsPerEpoch: 'tfjs-layers does not implement it either',
  validationSteps: 'tfjs-layers does not implement it either',
  validationBatches: 'validation from a Dataset is not implemented; pass validationData as [x, y] tensors',
  yieldEvery: 'the trainer gives the event loop a turn every ~100 ms by itself',
};

/** Batch-size-weighted means of the metric values of the steps, as tfjs' BaseLogger. */
class EpochAverages {
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
class TrainingSession {
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

  async runBatch(batchIndex: number, batch: Batch, averages: EpochAverages): Promise<void> {
    const size = batch.x.shape[0]!;
    await this.callbacks.call('onBatchBegin', batchIndex, { batch: batchIndex, size });
    const logs = await this.host.step(batch);
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

  async validate(validationData: [tf.Tensor, tf.Tensor] | undefined, batchSize: number): Promise<Record<string, number>> {
    if (!validationData) return {};
    const values = await this.host.evaluate(validationData[0], validationData[1], batchSize);
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [`val_${key}`, value]));
  }
}

function checkValidationData(value: unknown, declared: DeclaredShapes | null): [tf.Tensor, tf.Tensor] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== 2) {
    fail('validationData', value, '[x, y] (validation from a Dataset or with sample weights is not supported)');
  }
  checkSamples(['validationData[0]', 'validationData[1]'], value[0], value[1], declared);
  return value as [tf.Tensor, tf.Tensor];
}

/** LayersModel.fit over tensors: same checks, batching, shuffling, validation split, callbacks and History. */
export async function fitLoop(host: FitHost, x: tf.Tensor, y: tf.Tensor, options: FitOptions = {}): Promise<TrainHistory> {
  checkKnownOptions('fit options', options, FIT_OPTIONS, UNSUPPORTED);
  const total = checkSamples(['x', 'y'], x, y, host.declaredShapes);
  const batchSize = checkPositiveInteger('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE);
  const epochs = checkPositiveInteger('epochs', options.epochs ?? 1);
  const initialEpoch = checkNonNegativeInteger('initialEpoch', options.initialEpoch ?? 0);
  const shuffle = checkBoolean('shuffle', options.shuffle ?? true);
  const verbose = checkVerbose('verbose', options.verbose ?? 0);
  checkCallbacks('callbacks', options.callbacks);
  let validationData = checkValidationData(options.validationData, host.declaredShapes);
  const split = options.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) fail('validationSplit', split, 'a number in [0, 1)');
  const sampleIds = options.sampleIds;
  if (sampleIds !== undefined && (!(sampleIds instanceof Int32Array) || sampleIds.length !== total)) {
    fail('sampleIds', sampleIds, `an Int32Array with one id per row of x (${total})`);
  }

  const endTraining = host.beginTraining();
  const owned: tf.Tensor[] = [];
  try {
    let trainX = x;
    let trainY = y;
    // As tfjs: validationData wins over validationSplit; the split takes the LAST rows, before shuffling.
    if (!validationData && split > 0) {
      const splitAt = Math.floor(total * (1 - split));
      if (splitAt === 0 || splitAt === total) {
        fail('validationSplit', split, `a fraction that leaves samples on both sides of ${total} samples`);
      }
      trainX = tf.slice(x, 0, splitAt);
      trainY = tf.slice(y, 0, splitAt);
      validationData = [tf.slice(x, splitAt, total - splitAt), tf.slice(y, splitAt, total - splitAt)];
      owned.push(trainX, trainY, ...validationData);
    }
    const samples = trainX.shape[0]!;
    const session = new TrainingSession(host, options.callbacks, {
      epochs,
      initialEpoch,
      samples,
      steps: null,
      batchSize,
      verbose,
      doValidation: validationData !== undefined,
      metrics: validationData ? [...host.metricNames, ...host.metricNames.map((n) => `val_${n}`)] : [...host.metricNames],
    });
    const order = Int32Array.from({ length: samples }, (_, i) => i);
    // A row of x is an honest sample id; sampleIds maps rows to the caller's own ids.
    const idsOf = (rows: Int32Array) => (sampleIds ? rows.map((row) => sampleIds[row]!) : rows);

    await session.callbacks.call('onTrainBegin');
    host.resetStop();
    for (let epoch = initialEpoch; epoch < epochs; epoch++) {
      await host.beginEpoch(epoch);
      await session.callbacks.call('onEpochBegin', epoch);
      if (shuffle) tf.util.shuffle(order);
      const averages = new EpochAverages(host.metricNames);
      let validation: Record<string, number> = {};
      for (let start = 0, batchIndex = 0; start < samples; start += batchSize, batchIndex++) {
        const end = Math.min(start + batchSize, samples);
        const rows = order.slice(start, end);
        const nextRows = end < samples ? order.slice(end, Math.min(end + batchSize, samples)) : null;
        const [xb, yb] = tf.tidy(() => {
          const indices = tf.tensor1d(rows, 'int32');
          return [tf.gather(trainX, indices), tf.gather(trainY, indices)];
        });
        try {
          const batch = { x: xb!, y: yb!, ids: idsOf(rows), nextIds: nextRows && idsOf(nextRows) };
          await session.runBatch(batchIndex, batch, averages);
        } finally {
          tf.dispose([xb!, yb!]);
        }
        // tfjs validates within the epoch's last batch: an epoch stopped early has no val_ logs.
        if (end === samples) validation = await session.validate(validationData, batchSize);
        if (host.shouldStop()) break;
      }
      await session.endEpoch(epoch, averages.addTo(validation));
      if (host.shouldStop()) break;
    }
    await session.callbacks.call('onTrainEnd');
    return session.history;
  } finally {
    tf.dispose(owned);
    endTraining();
  }
}

function unpack(element: DatasetElement): { xs: tf.Tensor; ys: tf.Tensor; ids?: Int32Array } {
  return Array.isArray(element) ? { xs: element[0], ys: element[1] } : element;
}

function disposeElement(result: IteratorResult<DatasetElement> | null): void {
  if (result && !result.done && result.value) tf.dispose([unpack(result.value).xs, unpack(result.value).ys]);
}

/**
 * LayersModel.fitDataset: one pass of the iterator per epoch, or `batchesPerEpoch` batches of one
 * iterator for all epochs (warning and ending the epoch when it runs short, as tfjs does). The next
 * element is pulled before the current step runs, so a plugin sees the next batch's sample ids.
 */
export async function fitDatasetLoop(host: FitHost, dataset: DatasetLike, options: FitDatasetOptions): Promise<TrainHistory> {
  if (options === null || typeof options !== 'object') fail('fitDataset options', options, 'an object with at least epochs');
  if ('validationSplit' in options) throw new Error('trainhooks: validationSplit is not supported by fitDataset; use validationData');
  checkKnownOptions('fitDataset options', options, FIT_DATASET_OPTIONS, UNSUPPORTED);
  if (dataset === null || typeof dataset !== 'object' || typeof dataset.iterator !== 'function') {
    fail('dataset', dataset, 'a tf.data.Dataset or an object with an async iterator() method');
  }
  const epochs = checkPositiveInteger('epochs', options.epochs);
  const batchesPerEpoch = options.batchesPerEpoch === undefined ? undefined : checkPositiveInteger('batchesPerEpoch', options.batchesPerEpoch);
  const initialEpoch = checkNonNegativeInteger('initialEpoch', options.initialEpoch ?? 0);
  const verbose = checkVerbose('verbose', options.verbose ?? 0);
  const validationBatchSize = checkPositiveInteger('validationBatchSize', options.validationBatchSize ?? DEFAULT_VALIDATION_BATCH_SIZE);
  checkCallbacks('callbacks', options.callbacks);
  const validationData = checkValidationData(options.validationData, host.declaredShapes);

  const endTraining = host.beginTraining();
  let lookahead: IteratorResult<DatasetElement> | null = null;
  try {
    const session = new TrainingSession(host, options.callbacks, {
      epochs,
      initialEpoch: null,
      samples: null,
      steps: batchesPerEpoch ?? (Number.isFinite(dataset.size) ? dataset.size! : null),
      batchSize: null,
      verbose,
      doValidation: validationData !== undefined,
      metrics: validationData ? [...host.metricNames, ...host.metricNames.map((n) => `val_${n}`)] : [...host.metricNames],
    });
    await session.callbacks.call('onTrainBegin');
    host.resetStop();
    let iterator = await dataset.iterator();
    for (let epoch = initialEpoch; epoch < epochs; epoch++) {
      await host.beginEpoch(epoch);
      await session.callbacks.call('onEpochBegin', epoch);
      if (batchesPerEpoch === undefined) {
        iterator = epoch === initialEpoch ? iterator : await dataset.iterator();
        lookahead = null;
      }
      const averages = new EpochAverages(host.metricNames);
      let validation: Record<string, number> = {};
      let current: IteratorResult<DatasetElement> = lookahead ?? (await iterator.next());
      lookahead = null;
      for (let batchIndex = 0; ; batchIndex++) {
        if (current.done) {
          if (batchesPerEpoch !== undefined) {
            console.warn(
              `trainhooks: batchesPerEpoch is ${batchesPerEpoch} but the dataset iterator ran out of data after ` +
                `${batchIndex} batches; interrupting the epoch. Make sure the dataset yields at least ` +
                `batchesPerEpoch × epochs (${batchesPerEpoch * epochs}) batches, e.g. with repeat().`,
            );
          } else {
            validation = await session.validate(validationData, validationBatchSize);
          }
          break;
        }
        const { xs, ys, ids } = unpack(current.value);
        const lastOfEpoch = batchesPerEpoch !== undefined && batchIndex + 1 >= batchesPerEpoch;
        // Pull the next element first: the step then knows the next batch's ids (prefetch).
        lookahead = lastOfEpoch && epoch + 1 >= epochs ? null : await iterator.next();
        const next = lookahead && !lookahead.done ? unpack(lookahead.value) : null;
        try {
          checkSamples(['dataset element xs', 'dataset element ys'], xs, ys, host.declaredShapes);
          await session.runBatch(batchIndex, { x: xs, y: ys, ids: ids ?? null, nextIds: next?.ids ?? null }, averages);
        } finally {
          tf.dispose([xs, ys]);
        }
        if (lastOfEpoch) {
          validation = await session.validate(validationData, validationBatchSize);
          break;
        }
        if (host.shouldStop()) break;
        current = lookahead!;
        lookahead = null;
      }
      await session.endEpoch(epoch, averages.addTo(validation));
      if (host.shouldStop()) break;
    }
    await session.callbacks.call('onTrainEnd');
    return session.history;
  } finally {
    // An element pulled ahead that will not be trained on is freed here.
    disposeElement(lookahead);
    endTraining();
  }
}
