// What a run tells whoever watches it (a progress bar, --json-lines, the parent of an ablation child).

export interface EpochPoint {
  /** Epochs trained so far (1, 2, … or fractional with several evaluations per epoch). */
  readonly epoch: number;
  /** Training wall-clock so far; test evaluations excluded. */
  readonly seconds: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  /** Mean training loss since the previous point. */
  readonly trainLoss: number;
  readonly frozenPrefix: number;
  readonly learningRate: number;
  /** Samples trained per second since the previous point. */
  readonly samplesPerSecond: number;
  /** Batches served by the activation cache over batches with a frozen prefix, since the previous point (null: no such batch). */
  readonly cacheHitRate: number | null;
}

export type RunEvent =
  | { readonly type: 'start'; readonly epochs: number; readonly stepsPerEpoch: number; readonly backend: string; readonly dataSource: string }
  | { readonly type: 'step'; readonly epoch: number; readonly step: number; readonly steps: number; readonly loss: number }
  | { readonly type: 'epoch'; readonly point: EpochPoint }
  | { readonly type: 'log'; readonly message: string };

export type RunListener = (event: RunEvent) => void;
