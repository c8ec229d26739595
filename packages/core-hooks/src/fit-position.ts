// Where a fit over tensors stands between two steps — enough for a restored trainer's next fit to
// continue it exactly, mid-epoch included: the epoch, the next batch, the epoch's sample order and the
// seeded shuffle's state.

export interface FitPosition {
  /** Samples and batch size of the fit it was taken in: a resumed fit must have the same. */
  readonly samples: number;
  readonly batchSize: number;
  /** The epoch the next step belongs to, and that step's batch index within it. */
  readonly epoch: number;
  readonly batch: number;
  /**
   * The epoch's sample order (rows of x) when `drawn`; otherwise the order the next epoch's shuffle
   * starts from (a shuffle permutes the previous order in place, as tfjs does).
   */
  readonly order: Int32Array;
  readonly drawn: boolean;
  /** The seeded shuffle's state after `order` was drawn; null when unseeded (Math.random) or unshuffled. */
  readonly shuffleState: number | null;
  /** The `epochs` of the fit call it was taken in, and whether that call had run its last batch. */
  readonly callEpochs: number;
  readonly callEnded: boolean;
}

/**
 * What a fit on a restored trainer does with the saved position: continue the call it was taken in
 * (mid-call), find nothing left (the same call, already ended), or start as a new call (a caller that
 * runs one fit per epoch or chunk calls the next one with other arguments).
 */
export function resumeMode(position: FitPosition, epochs: number, initialEpoch: number | undefined): 'continue' | 'done' | 'new-call' {
  if (!position.callEnded) return 'continue';
  return epochs === position.callEpochs && initialEpoch === undefined ? 'done' : 'new-call';
}

/** Refuses a fit that does not continue the one the position was taken in. */
export function checkResumedFit(position: FitPosition, samples: number, batchSize: number, initialEpoch: number | undefined): void {
  const differences: string[] = [];
  if (position.samples !== samples) differences.push(`${position.samples} training samples there, ${samples} here`);
  if (position.batchSize !== batchSize) differences.push(`batch size ${position.batchSize} there, ${batchSize} here`);
  if (initialEpoch !== undefined && initialEpoch !== position.epoch) differences.push(`it resumes at epoch ${position.epoch}, initialEpoch is ${initialEpoch}`);
  if (differences.length > 0) {
    throw new Error(`trainhooks: this fit does not continue the restored one (${differences.join('; ')}); pass the same data and batchSize, and no initialEpoch`);
  }
}
