import * as tf from '@tensorflow/tfjs-core';
import { checkCallbacks, checkKnownOptions, checkNonNegativeInteger, checkPositiveInteger, checkSamples, checkVerbose, fail } from './argument-checks.js';
import type { FitCallbacks } from './callbacks.js';
import { checkValidationData, EpochAverages, TrainingSession, UNSUPPORTED_OPTIONS, type FitHost, type TrainHistory } from './training-session.js';

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

/** A tfjs-data Dataset or anything with the same async iterator protocol. */
export type DatasetElement =
  | { xs: tf.Tensor; ys: tf.Tensor; ids?: Int32Array }
  | [tf.Tensor, tf.Tensor];
export interface DatasetLike {
  iterator(): Promise<{ next(): Promise<IteratorResult<DatasetElement>> }>;
  readonly size?: number | null;
}

const DEFAULT_VALIDATION_BATCH_SIZE = 32;

const FIT_DATASET_OPTIONS = ['epochs', 'batchesPerEpoch', 'validationData', 'validationBatchSize', 'callbacks', 'verbose', 'initialEpoch'];

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
  if ((options as { validationSplit?: unknown }).validationSplit !== undefined) throw new Error('trainhooks: validationSplit is not supported by fitDataset; use validationData');
  checkKnownOptions('fitDataset options', options, FIT_DATASET_OPTIONS, UNSUPPORTED_OPTIONS);
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
      metrics: TrainingSession.metricNames(host, validationData !== undefined),
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
