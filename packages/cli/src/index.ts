// @trainhooks/cli: the reference workloads (Fashion-MNIST, the digits, the cnn / mlp / resnet models
// and their pretrained backbones) and the train / ablate / report machinery behind the `trainhooks`
// command, usable from code. @trainhooks/cli/internal holds the rest of its modules. Unstable.
export { loadFashionMnist, FASHION_MNIST_CLASSES, type FashionMnistSet, type FashionMnistSource, type LoadFashionMnistOptions } from './data/fashion-mnist.js';
export { loadDigits, type DigitsSet, type LoadDigitsOptions } from './data/digits.js';
export { toTensors, type LabeledTensors, type TensorOptions } from './data/tensors.js';
export { toBatchDataset, type BatchDataset, type BatchDatasetOptions } from './data/batch-dataset.js';
export { createModel, MODEL_NAMES, type ModelName } from './models/index.js';
export { createMnistCoreModel, type MnistCoreModel } from './models/mnist-core.js';
export { loadModelFile, saveModelFiles, type SaveModelFilesOptions } from './run/model-file.js';
export { DEFAULT_RUN_SPEC, OPTIMIZER_NAMES, configurationLabel, type OptimizerName, type RunSpec, type StepSchedule } from './run/run-spec.js';
export type { EpochPoint, RunEvent, RunListener } from './run/run-events.js';
export { runTraining, type RunResult } from './run/run-training.js';
export { PLUGIN_NAMES, type PluginName, type PluginRef } from './plugins/plugin-names.js';
export { headOnlyPlugin, HeadOnlyPlugin, type HeadOnlyReport } from './plugins/head-only.js';
export { configurationMatrix, MATRIX_KINDS } from './ablation/matrix.js';
export { runAblation, type AblationEvent, type AblationFailure, type AblationOutcome, type AblationSpec } from './ablation/run-ablation.js';
export { buildReportData, type ReportData, type ReportSettings } from './report/report-data.js';
export { summarise, type ConfigurationSummary } from './report/summary.js';
export { writeReport, type ReportPaths } from './report/write-report.js';
