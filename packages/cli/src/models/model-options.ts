// Options shared by every reference model.

export interface ModelOptions {
  /** Seeds every kernel initialiser, so two models built with the same seed start from identical weights. */
  seed?: number;
  /** Keep the Dropout layers; turn off for tests that compare two training paths step by step. */
  dropout?: boolean;
}

export const DEFAULT_MODEL_OPTIONS = {
  dropout: true,
} as const satisfies ModelOptions;

/** Where each model wants its pixels: 'flat' = n×784, 'image' = n×28×28×1 (pass flatten to toTensors / toBatchDataset). */
export type InputLayout = 'flat' | 'image';

export const INPUT_SHAPES: Record<InputLayout, readonly number[]> = {
  flat: [784],
  image: [28, 28, 1],
};
