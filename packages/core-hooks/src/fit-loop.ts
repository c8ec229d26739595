import * as tf from '@tensorflow/tfjs-core';
import { CallbackList, type FitCallbacks } from './callbacks.js';
import type { Trainer } from './trainer.js';

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the sample order every epoch (default true, as LayersModel.fit). */
  shuffle?: boolean;
  /** Hold out the LAST fraction of x/y (before shuffling) for validation, as tfjs does. */
  validationSplit?: number;
  validationData?: [tf.Tensor, tf.Tensor];
  callbacks?: FitCallbacks | FitCallbacks[];
  /** 0 silent, 1 one line per epoch. */
  verbose?: 0 | 1;
  initialEpoch?: number;
  /** Stable sample id of each row of x (default: the row index); per-sample caches key on it. */
  sampleIds?: Int32Array;
}

export interface FitDatasetOptions {
  epochs: number;
  batchesPerEpoch?: number;
  validationData?: [tf.Tensor, tf.Tensor];
  callbacks?: FitCallbacks | FitCallbacks[];
  verbose?: 0 | 1;
  initialEpoch?: number;
}

/** What LayersModel.fit resolves to. */
export interface TrainHistory {
  epoch: number[];
  history: Record<string, number[]>;
  params: Record<string, unknown>;
}

/** A tfjs-data Dataset or anything with the same async iterator protocol. */
export type DatasetElement =
  | { xs: tf.Tensor; ys: tf.Tensor; ids?: Int32Array }
  | [tf.Tensor, tf.Tensor];
export interface DatasetLike {
  iterator(): Promise<{ next(): Promise<IteratorResult<DatasetElement>> }>;
}

/** Batch-size-weighted running means of step logs, as tfjs' BaseLogger. */
class EpochAverages {
  private readonly sums: Record<string, number> = {};
  private samples = 0;

  add(logs: Record<string, number>, size: number): void {
    for (const [key, value] of Object.entries(logs)) this.sums[key] = (this.sums[key] ?? 0) + value * size;
    this.samples += size;
  }

  means(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v / this.samples]));
  }
}

class HistoryRecorder implements TrainHistory {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  constructor(readonly params: Record<string, unknown>) {}

  record(epoch: number, logs: Record<string, number>): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) (this.history[key] ??= []).push(value);
  }
}

function shouldStop(trainer: Trainer): boolean {
  const model = trainer.model as { stopTraining?: boolean };
  return trainer.stopTraining || model.stopTraining === true;
}

async function finishEpoch(
  trainer: Trainer,
  epoch: number,
  averages: EpochAverages,
  validationData: [tf.Tensor, tf.Tensor] | undefined,
  batchSize: number | undefined,
  callbacks: CallbackList,
  history: HistoryRecorder,
  verbose: number,
): Promise<void> {
  const logs = averages.means();
  if (validationData) {
    const validation = await trainer.evaluate(validationData[0], validationData[1], { batchSize });
    for (const [key, value] of Object.entries(validation)) logs[`val_${key}`] = value;
  }
  await trainer.endEpoch(epoch, logs);
  await callbacks.call('onEpochEnd', epoch, logs);
  history.record(epoch, logs);
  if (verbose > 0) {
    const text = Object.entries(logs).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ');
    console.log(`epoch ${epoch + 1}: ${text}`);
  }
}

/** LayersModel.fit over tensors: same batching, shuffling, validation split and History. */
export async function fitLoop(trainer: Trainer, x: tf.Tensor, y: tf.Tensor, options: FitOptions): Promise<TrainHistory> {
  const batchSize = options.batchSize ?? 32;
  const epochs = options.epochs ?? 1;
  const shuffle = options.shuffle ?? true;
  const callbacks = new CallbackList(options.callbacks);
  const owned: tf.Tensor[] = [];
  let trainX = x;
  let trainY = y;
  let validationData = options.validationData;
  const split = options.validationSplit ?? 0;
  if (!validationData && split > 0 && split < 1) {
    const total = x.shape[0]!;
    const splitAt = Math.floor(total * (1 - split));
    trainX = tf.slice(x, 0, splitAt);
    trainY = tf.slice(y, 0, splitAt);
    validationData = [tf.slice(x, splitAt, total - splitAt), tf.slice(y, splitAt, total - splitAt)];
    owned.push(trainX, trainY, ...validationData);
  }
  const samples = trainX.shape[0]!;
  const order = Int32Array.from({ length: samples }, (_, i) => i);
  const idOfRow = (rows: Int32Array) => (options.sampleIds ? rows.map((row) => options.sampleIds![row]!) : rows);
  const history = new HistoryRecorder({ epochs, batchSize, samples, steps: Math.ceil(samples / batchSize) });
  trainer.stopTraining = false;
  try {
    await callbacks.call('onTrainBegin');
    for (let epoch = options.initialEpoch ?? 0; epoch < epochs && !shouldStop(trainer); epoch++) {
      await trainer.beginEpoch(epoch);
      await callbacks.call('onEpochBegin', epoch);
      if (shuffle) tf.util.shuffle(order);
      const averages = new EpochAverages();
      for (let start = 0, batchIndex = 0; start < samples; start += batchSize, batchIndex++) {
        const end = Math.min(start + batchSize, samples);
        const ids = order.slice(start, end);
        const nextIds = end < samples ? order.slice(end, Math.min(end + batchSize, samples)) : null;
        await callbacks.call('onBatchBegin', batchIndex, { batch: batchIndex, size: end - start });
        const [xb, yb] = tf.tidy(() => {
          const indices = tf.tensor1d(ids, 'int32');
          return [tf.gather(trainX, indices), tf.gather(trainY, indices)];
        });
        let logs: Record<string, number>;
        try {
          logs = await trainer.runStep({ x: xb!, y: yb!, ids: idOfRow(ids), nextIds: nextIds && idOfRow(nextIds) }, epoch);
        } finally {
          tf.dispose([xb!, yb!]);
        }
        averages.add(logs, end - start);
        await callbacks.call('onBatchEnd', batchIndex, { batch: batchIndex, size: end - start, ...logs });
        if (shouldStop(trainer)) break;
      }
      await finishEpoch(trainer, epoch, averages, validationData, batchSize, callbacks, history, options.verbose ?? 0);
    }
    await callbacks.call('onTrainEnd');
  } finally {
    tf.dispose(owned);
  }
  return history;
}

function unpack(element: DatasetElement): { xs: tf.Tensor; ys: tf.Tensor; ids?: Int32Array } {
  return Array.isArray(element) ? { xs: element[0], ys: element[1] } : element;
}

/**
 * LayersModel.fitDataset: one pass of the iterator per epoch (or batchesPerEpoch batches). The next
 * element is pulled before the current step runs, so a plugin sees the next batch's sample ids.
 */
export async function fitDatasetLoop(trainer: Trainer, dataset: DatasetLike, options: FitDatasetOptions): Promise<TrainHistory> {
  const callbacks = new CallbackList(options.callbacks);
  const history = new HistoryRecorder({ epochs: options.epochs, batchesPerEpoch: options.batchesPerEpoch });
  let iterator = options.batchesPerEpoch ? await dataset.iterator() : null;
  let sampleCounter = 0;
  trainer.stopTraining = false;
  await callbacks.call('onTrainBegin');
  for (let epoch = options.initialEpoch ?? 0; epoch < options.epochs && !shouldStop(trainer); epoch++) {
    await trainer.beginEpoch(epoch);
    await callbacks.call('onEpochBegin', epoch);
    if (!options.batchesPerEpoch) iterator = await dataset.iterator();
    const averages = new EpochAverages();
    let current = await iterator!.next();
    for (let batchIndex = 0; !current.done; batchIndex++) {
      const { xs, ys, ids: givenIds } = unpack(current.value);
      const size = xs.shape[0]!;
      const ids = givenIds ?? Int32Array.from({ length: size }, (_, i) => sampleCounter + i);
      sampleCounter += size;
      const lastOfEpoch = options.batchesPerEpoch !== undefined && batchIndex + 1 >= options.batchesPerEpoch;
      const next = lastOfEpoch ? null : await iterator!.next();
      const nextIds = next && !next.done ? (unpack(next.value).ids ?? null) : null;
      await callbacks.call('onBatchBegin', batchIndex, { batch: batchIndex, size });
      let logs: Record<string, number>;
      try {
        logs = await trainer.runStep({ x: xs, y: ys, ids, nextIds }, epoch);
      } finally {
        tf.dispose([xs, ys]);
      }
      averages.add(logs, size);
      await callbacks.call('onBatchEnd', batchIndex, { batch: batchIndex, size, ...logs });
      if (!next) break;
      if (shouldStop(trainer)) {
        // The element pulled ahead for the lookahead will not be trained on: free it.
        if (!next.done) tf.dispose([unpack(next.value).xs, unpack(next.value).ys]);
        break;
      }
      current = next;
    }
    await finishEpoch(trainer, epoch, averages, options.validationData, undefined, callbacks, history, options.verbose ?? 0);
  }
  await callbacks.call('onTrainEnd');
  return history;
}
