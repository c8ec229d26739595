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
} from './argument-checks.js';
import type { FitCallbacks } from './callbacks.js';
import { checkResumedFit, resumeMode } from './fit-position.js';
import { SeededRandom, shuffleInPlace } from './seeded-random.js';
import { checkValidationData, EpochAverages, TrainingSession, UNSUPPORTED_OPTIONS, type FitHost, type TrainHistory } from './training-session.js';

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the sample order every epoch (default true, as LayersModel.fit). */
  shuffle?: boolean;
  /** Seed of the shuffle (an extension of model.fit, which shuffles with Math.random): same seed, same batches. */
  shuffleSeed?: number;
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

const DEFAULT_BATCH_SIZE = 32;

const FIT_OPTIONS = ['epochs', 'batchSize', 'shuffle', 'shuffleSeed', 'validationSplit', 'validationData', 'callbacks', 'verbose', 'initialEpoch', 'sampleIds'];

/** LayersModel.fit over tensors: same checks, batching, shuffling, validation split, callbacks and History. */
export async function fitLoop(host: FitHost, x: tf.Tensor, y: tf.Tensor, options: FitOptions = {}): Promise<TrainHistory> {
  checkKnownOptions('fit options', options, FIT_OPTIONS, UNSUPPORTED_OPTIONS);
  const total = checkSamples(['x', 'y'], x, y, host.declaredShapes);
  const batchSize = checkPositiveInteger('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE);
  const epochs = checkPositiveInteger('epochs', options.epochs ?? 1);
  const initialEpoch = checkNonNegativeInteger('initialEpoch', options.initialEpoch ?? 0);
  const shuffle = checkBoolean('shuffle', options.shuffle ?? true);
  const shuffleSeed = options.shuffleSeed;
  if (shuffleSeed !== undefined && !(Number.isInteger(shuffleSeed) && shuffleSeed >= 0 && shuffleSeed < 2 ** 32)) {
    fail('shuffleSeed', shuffleSeed, 'an integer in [0, 2³²)');
  }
  const saved = host.takeResumePosition();
  const mode = saved && resumeMode(saved, epochs, options.initialEpoch);
  const resume = mode === 'continue' ? saved : null;
  // The same call as the one saved, and it had ended: nothing is left (as model.fit with initialEpoch = epochs).
  const firstEpoch = mode === 'done' ? epochs : (resume?.epoch ?? initialEpoch);
  // tfjs shuffles with Math.random; a seed makes the batch order the same in every run. A restored
  // trainer continues its saved shuffle instead.
  const random = resume ? (resume.shuffleState === null ? null : new SeededRandom(resume.shuffleState)) : shuffleSeed === undefined ? null : new SeededRandom(shuffleSeed);
  const shuffleOrder = (order: Int32Array) => (random ? shuffleInPlace(order, random) : tf.util.shuffle(order));
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
    if (resume) checkResumedFit(resume, samples, batchSize, options.initialEpoch);
    const session = new TrainingSession(host, options.callbacks, {
      epochs,
      initialEpoch: firstEpoch,
      samples,
      steps: null,
      batchSize,
      verbose,
      doValidation: validationData !== undefined,
      metrics: TrainingSession.metricNames(host, validationData !== undefined),
    });
    let order: Int32Array = resume ? resume.order.slice() : Int32Array.from({ length: samples }, (_, i) => i);
    /** A restored epoch starts at its saved batch, in its saved order. */
    let resumeBatch = resume?.drawn ? resume.batch : null;
    /** The next epoch's order, drawn during this epoch's last batch so that batch can name its successor. */
    let upcoming: Int32Array | null = null;
    // A row of x is an honest sample id; sampleIds maps rows to the caller's own ids.
    const idsOf = (rows: Int32Array) => (sampleIds ? rows.map((row) => sampleIds[row]!) : rows);

    await session.callbacks.call('onTrainBegin');
    host.resetStop();
    for (let epoch = firstEpoch; epoch < epochs; epoch++) {
      await host.beginEpoch(epoch);
      await session.callbacks.call('onEpochBegin', epoch);
      const firstBatch = resumeBatch ?? 0;
      if (resumeBatch === null) {
        if (upcoming) order = upcoming;
        else if (shuffle) shuffleOrder(order);
      }
      resumeBatch = null;
      upcoming = null;
      const averages = new EpochAverages(host.metricNames);
      let validation: Record<string, number> = {};
      for (let batchIndex = firstBatch, start = firstBatch * batchSize; start < samples; start += batchSize, batchIndex++) {
        const end = Math.min(start + batchSize, samples);
        const rows = order.slice(start, end);
        if (end === samples && epoch + 1 < epochs) {
          // The same draw the next epoch would make at its start (same generator, same previous order).
          upcoming = order.slice();
          if (shuffle) shuffleOrder(upcoming);
        }
        // Lookahead across the epoch boundary too: a cache prefetches the next epoch's first batch.
        const nextRows = end < samples ? order.slice(end, Math.min(end + batchSize, samples)) : upcoming ? upcoming.slice(0, batchSize) : null;
        const [xb, yb] = tf.tidy(() => {
          const indices = tf.tensor1d(rows, 'int32');
          return [tf.gather(trainX, indices), tf.gather(trainY, indices)];
        });
        try {
          const batch = { x: xb!, y: yb!, ids: idsOf(rows), nextIds: nextRows && idsOf(nextRows) };
          await session.runBatch(batchIndex, batch, averages, () => {
            // Recorded before the batch's callbacks run, so a checkpoint saved in one resumes after this batch.
            const shuffleState = random?.currentState ?? null;
            const at = { samples, batchSize, shuffleState, callEpochs: epochs, callEnded: end === samples && epoch + 1 === epochs };
            if (end < samples) host.recordPosition({ ...at, epoch, batch: batchIndex + 1, order, drawn: true });
            else if (upcoming) host.recordPosition({ ...at, epoch: epoch + 1, batch: 0, order: upcoming, drawn: true });
            else host.recordPosition({ ...at, epoch: epoch + 1, batch: 0, order, drawn: false });
          });
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
