// From command-line strings to a RunSpec / AblationSpec, with every check that can be made before
// training starts (each failure a UsageError: one clear line, exit code 2).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AUTO_BACKEND_ORDER } from '@trainhooks/backend';
import { configurationMatrix, MATRIX_KINDS } from '../ablation/matrix.js';
import type { AblationSpec } from '../ablation/run-ablation.js';
import { DEBIAN_FASHION_MNIST_DIR, DEBIAN_FASHION_MNIST_PACKAGE, FASHION_MNIST_FILES, loadFashionMnist } from '../data/fashion-mnist.js';
import { isModelName, MODEL_NAMES, PRETRAINED_PREFIX, pretrainedModelPath, pretrainedName } from '../models/index.js';
import { modelFileInputShape } from '../run/model-file.js';
import { isPluginRef, unknownPluginMessage, type PluginRef } from '../plugins/plugin-names.js';
import { pluginProblem } from '../plugins/plugin-registry.js';
import { DEFAULT_LEARNING_RATES, DEFAULT_RUN_SPEC, OPTIMIZER_NAMES, type OptimizerName, type RunSpec, type StepSchedule } from '../run/run-spec.js';
import { UsageError } from './usage-error.js';

/** The options both commands share, as commander hands them over (strings unless parsed). */
export interface RunArguments {
  model: string;
  /** commander's --new-head / --no-new-head; undefined when neither is given. */
  newHead?: boolean;
  data: string;
  plugins?: string;
  pluginOptions?: string;
  epochs: string;
  evalsPerEpoch?: string;
  batchSize: string;
  lr?: string;
  optimizer: string;
  lrSchedule?: string;
  seed: string;
  backend: string;
  trainLimit?: string;
  testLimit?: string;
  threads?: string;
}

/** `train` only: checkpoints and resuming. */
export interface TrainArguments extends RunArguments {
  out: string;
  checkpointEvery?: string;
  checkpointDir?: string;
  resume?: string;
}

export interface AblateArguments extends RunArguments {
  matrix: string;
  seeds: string;
  targetDrop: string;
  parallel: string;
}

export const BACKEND_CHOICES = ['auto', ...AUTO_BACKEND_ORDER] as const;

export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`${name} must be a positive whole number, got '${text}'`);
  return value;
}

export function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`${name} must be a positive number, got '${text}'`);
  return value;
}

function nonNegativeNumber(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a number ≥ 0, got '${text}'`);
  return value;
}

export function parsePluginList(text: string | undefined): PluginRef[] {
  if (text === undefined || text.trim() === '' || text === 'none') return [];
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!isPluginRef(name)) throw new UsageError(unknownPluginMessage(name));
  }
  if (new Set(names).size !== names.length) throw new UsageError(`--plugins names a plugin twice: ${text}`);
  return names;
}

function checkModel(model: string, data: string): string {
  if (isModelName(model)) return model;
  if (model.startsWith(PRETRAINED_PREFIX)) {
    const name = pretrainedName(model);
    if (name === null) throw new UsageError(`unknown pretrained model '${model}'; choose ${MODEL_NAMES.map((n) => PRETRAINED_PREFIX + n).join(', ')}`);
    const path = pretrainedModelPath(name);
    if (!existsSync(path)) throw new UsageError(`--model ${model}: ${path} is missing; rebuild the backbones with \`npm run pretrain\``);
    checkInputShape(model, path, data);
    return model;
  }
  if (model.endsWith('.json') && existsSync(model)) {
    checkInputShape(model, model, data);
    return model;
  }
  if (model.endsWith('.json')) throw new UsageError(`--model: ${model} does not exist`);
  throw new UsageError(
    `unknown model '${model}'; choose ${MODEL_NAMES.join(', ')}, ${MODEL_NAMES.map((n) => PRETRAINED_PREFIX + n).join(', ')} or give the path of a tfjs-layers model.json`,
  );
}

/** Every data set here is 28×28 greyscale: a model must take n×784 or n×28×28×1. */
function checkInputShape(model: string, path: string, data: string): void {
  let shape: Array<number | null> | null;
  try {
    shape = modelFileInputShape(path);
  } catch (error) {
    throw new UsageError(`--model ${model}: cannot read ${path}: ${(error as Error).message}`);
  }
  if (shape === null) return; // the model will say itself when it is built
  const features = shape.slice(1).join(',');
  if (features !== '784' && features !== '28,28,1') {
    throw new UsageError(`--model ${model} takes inputs of shape [${shape.slice(1).join(', ')}], but --data ${data} has 28×28×1 images (a model must take [784] or [28, 28, 1])`);
  }
}

function checkData(data: string): string {
  if (data === 'subset' || data === 'digits') return data;
  if (data === 'fashion-mnist') {
    if (!existsSync(DEBIAN_FASHION_MNIST_DIR)) {
      throw new UsageError(`--data fashion-mnist reads ${DEBIAN_FASHION_MNIST_DIR}, which is missing: apt-get install ${DEBIAN_FASHION_MNIST_PACKAGE}, or pass --data DIR`);
    }
    return data;
  }
  if (!existsSync(data) || !statSync(data).isDirectory()) {
    throw new UsageError(`--data: no directory '${data}'; use subset (embedded), digits (real MNIST digits), fashion-mnist (${DEBIAN_FASHION_MNIST_DIR}) or a directory with the four IDX files`);
  }
  const stems = Object.values(FASHION_MNIST_FILES).flatMap((split) => [split.images, split.labels]);
  const missing = stems.filter((stem) => !existsSync(`${data}/${stem}`) && !existsSync(`${data}/${stem}.gz`));
  if (missing.length > 0) throw new UsageError(`--data ${data} lacks ${missing.join(', ')} (raw or .gz)`);
  // Read once here: a damaged file is one clear line before any run starts, not a failure in every run.
  for (const split of ['train', 'test'] as const) {
    try {
      loadFashionMnist({ dataDir: data, split });
    } catch (error) {
      throw new UsageError(`--data ${data}: ${(error as Error).message}`);
    }
  }
  return data;
}

function parseSchedule(text: string | undefined): StepSchedule | null {
  if (text === undefined || text === 'none') return null;
  const match = /^step:(\d+):([0-9.eE+-]+)$/.exec(text);
  const factor = match ? Number(match[2]) : NaN;
  if (!match || Number(match[1]) < 1 || !(factor > 0)) throw new UsageError(`--lr-schedule must be step:EPOCHS:FACTOR (e.g. step:10:0.1), got '${text}'`);
  return { kind: 'step', everyEpochs: Number(match[1]), factor };
}

/** --plugin-options FILE.json: { "<plugin>": { option: value } }. */
export function readPluginOptions(path: string | undefined): RunSpec['pluginOptions'] {
  if (path === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--plugin-options: cannot read ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`--plugin-options: ${path} must hold a JSON object keyed by plugin name`);
  for (const [name, options] of Object.entries(parsed)) {
    if (!isPluginRef(name)) throw new UsageError(`--plugin-options: ${path}: ${unknownPluginMessage(name)}`);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new UsageError(`--plugin-options: the options of '${name}' in ${path} must be an object`);
  }
  return parsed as RunSpec['pluginOptions'];
}

function parseOptimizer(text: string): OptimizerName {
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(text)) throw new UsageError(`unknown optimizer '${text}'; choose from ${OPTIMIZER_NAMES.join(', ')}`);
  return text as OptimizerName;
}

/** Everything but plugins and seed; shared by train and ablate. */
export function parseBase(args: RunArguments): AblationSpec['base'] {
  if (!(BACKEND_CHOICES as readonly string[]).includes(args.backend)) throw new UsageError(`unknown backend '${args.backend}'; choose from ${BACKEND_CHOICES.join(', ')}`);
  const optimizer = parseOptimizer(args.optimizer);
  return {
    model: checkModel(args.model, checkData(args.data)),
    ...(args.newHead !== undefined ? { newHead: args.newHead } : {}),
    data: checkData(args.data),
    pluginOptions: readPluginOptions(args.pluginOptions),
    epochs: positiveInteger('--epochs', args.epochs),
    ...(args.evalsPerEpoch !== undefined ? { evalsPerEpoch: positiveInteger('--evals-per-epoch', args.evalsPerEpoch) } : {}),
    batchSize: positiveInteger('--batch-size', args.batchSize),
    optimizer,
    learningRate: args.lr === undefined ? DEFAULT_LEARNING_RATES[optimizer] : positiveNumber('--lr', args.lr),
    lrSchedule: parseSchedule(args.lrSchedule),
    backend: args.backend,
    ...(args.threads !== undefined ? { threads: positiveInteger('--threads', args.threads) } : {}),
    trainLimit: args.trainLimit === undefined ? null : positiveInteger('--train-limit', args.trainLimit),
    testLimit: args.testLimit === undefined ? null : positiveInteger('--test-limit', args.testLimit),
  };
}

/** Refuses plugins that cannot run here (not installed, not built yet) or whose options their own check rejects. */
export async function checkPlugins(plugins: readonly PluginRef[], pluginOptions: RunSpec['pluginOptions']): Promise<void> {
  for (const name of plugins) {
    const problem = await pluginProblem(name, pluginOptions[name] ?? {});
    if (problem) throw new UsageError(problem);
  }
}

export async function parseTrain(args: TrainArguments): Promise<AblationSpec> {
  const base = { ...parseBase(args), ...parseCheckpointing(args) };
  const plugins = parsePluginList(args.plugins);
  await checkPlugins(plugins, base.pluginOptions);
  const seed = nonNegativeInteger('--seed', args.seed);
  return { base, configurations: [plugins], seeds: [seed], parallel: 1 };
}

/**
 * --checkpoint-every N / --checkpoint-dir DIR / --resume DIR. Any of them turns checkpoints on: into DIR
 * (default: the resumed checkpoint, else OUT/checkpoint), every N steps if given, at the end of the run,
 * and at the next step after SIGINT / SIGTERM.
 */
function parseCheckpointing(args: TrainArguments): Pick<RunSpec, 'checkpoint' | 'resume'> {
  if (args.resume !== undefined && !existsSync(join(args.resume, 'checkpoint.json'))) {
    throw new UsageError(`--resume ${args.resume}: not a checkpoint (no checkpoint.json there); checkpoints are written by --checkpoint-every / --checkpoint-dir`);
  }
  if (args.checkpointEvery === undefined && args.checkpointDir === undefined && args.resume === undefined) return {};
  const every = args.checkpointEvery === undefined ? null : positiveInteger('--checkpoint-every', args.checkpointEvery);
  const dir = args.checkpointDir ?? args.resume ?? join(args.out, 'checkpoint');
  return { checkpoint: { every, dir }, ...(args.resume !== undefined ? { resume: args.resume } : {}) };
}

export async function parseAblate(args: AblateArguments): Promise<AblationSpec & { targetDropPoints: number }> {
  const base = parseBase(args);
  const plugins = parsePluginList(args.plugins);
  const isKind = (MATRIX_KINDS as readonly string[]).includes(args.matrix);
  if (isKind && plugins.length === 0) throw new UsageError(`--matrix ${args.matrix} needs --plugins, e.g. --plugins freeze,act-cache`);
  let configurations: PluginRef[][];
  try {
    configurations = configurationMatrix(args.matrix, plugins);
  } catch (error) {
    throw new UsageError(`--matrix: ${(error as Error).message}`);
  }
  if (configurations.some((configuration) => configuration.includes('mpi'))) {
    // Each rank may initialise MPI once, and an ablation is several runs.
    throw new UsageError("plugin 'mpi' trains one configuration per MPI job: run mpirun -np N trainhooks train --plugins mpi,… for each configuration");
  }
  await checkPlugins([...new Set(configurations.flat())], base.pluginOptions);
  const firstSeed = nonNegativeInteger('--seed', args.seed);
  const seeds = Array.from({ length: positiveInteger('--seeds', args.seeds) }, (_, i) => firstSeed + i);
  return { base, configurations, seeds, parallel: positiveInteger('--parallel', args.parallel), targetDropPoints: nonNegativeNumber('--target-drop', args.targetDrop) };
}

function nonNegativeInteger(name: string, text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new UsageError(`${name} must be a whole number ≥ 0, got '${text}'`);
  return Number(text);
}

export const DEFAULTS = {
  model: DEFAULT_RUN_SPEC.model,
  data: DEFAULT_RUN_SPEC.data,
  epochs: String(DEFAULT_RUN_SPEC.epochs),
  batchSize: String(DEFAULT_RUN_SPEC.batchSize),
  optimizer: DEFAULT_RUN_SPEC.optimizer,
  seed: String(DEFAULT_RUN_SPEC.seed),
  backend: DEFAULT_RUN_SPEC.backend,
  matrix: 'cumulative',
  seeds: '1',
  targetDrop: '0.3',
  parallel: '1',
  out: 'trainhooks-out',
} as const;
