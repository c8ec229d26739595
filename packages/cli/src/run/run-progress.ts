// Where a CLI run stands — the epoch and batch, the test evaluations so far, the training time, the
// generators that draw each epoch's shuffle seed and Dropout's masks — as a plugin with the state
// contract, so that a checkpoint carries it and a resumed run's report covers the whole run.
import { SeededRandom, type StatefulPlugin } from '@trainhooks/core-hooks/internal';
import type { EpochPoint } from './run-events.js';

/** What happened since the last test evaluation (the next point's train loss and speed). */
export interface EvaluationInterval {
  steps: number;
  samples: number;
  lossSum: number;
  startSeconds: number;
}

export interface RunProgressState {
  /** The epoch in progress and the batches of it done (the whole epoch: its evaluation is next). */
  readonly epoch: number;
  readonly batchesDone: number;
  readonly points: EpochPoint[];
  readonly interval: EvaluationInterval;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Training seconds so far (evaluations and checkpoints off the clock). */
  readonly seconds: number;
  readonly shuffleSeeds: number;
  readonly mathRandom: number;
}

export class RunProgress implements StatefulPlugin<RunProgressState> {
  readonly name = 'RunProgress';
  readonly stateKey = 'cli-run';
  readonly stateVersion = 1;
  epoch = 0;
  batchesDone = 0;
  points: EpochPoint[] = [];
  interval: EvaluationInterval = { steps: 0, samples: 0, lossSum: 0, startSeconds: 0 };
  cacheHits = 0;
  cacheMisses = 0;
  seconds = 0;
  /** Draws each epoch's shuffle seed. */
  shuffleSeeds: SeededRandom;

  constructor(
    seed: number,
    /** Math.random's generator while the run trains (Dropout's masks). */
    readonly mathRandom: SeededRandom,
  ) {
    this.shuffleSeeds = new SeededRandom(seed);
  }

  apply(): void {}

  exportState(): RunProgressState {
    return {
      epoch: this.epoch,
      batchesDone: this.batchesDone,
      points: this.points.map((point) => ({ ...point })),
      interval: { ...this.interval },
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      seconds: this.seconds,
      shuffleSeeds: this.shuffleSeeds.currentState,
      mathRandom: this.mathRandom.currentState,
    };
  }

  importState(state: RunProgressState): void {
    this.epoch = state.epoch;
    this.batchesDone = state.batchesDone;
    this.points = state.points.map((point) => ({ ...point }));
    this.interval = { ...state.interval };
    this.cacheHits = state.cacheHits;
    this.cacheMisses = state.cacheMisses;
    this.seconds = state.seconds;
    this.shuffleSeeds = new SeededRandom(state.shuffleSeeds);
    this.mathRandom.restoreState(state.mathRandom);
  }
}
