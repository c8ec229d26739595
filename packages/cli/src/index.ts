// @trainhooks/cli: the reference workloads (Fashion-MNIST, the cnn / mlp / resnet models) and the
// train / ablate machinery behind the `trainhooks` command, usable from code.
export * from './data/idx.js';
export * from './data/fashion-mnist.js';
export * from './data/tensors.js';
export * from './data/batch-dataset.js';
export * from './data/data-args.js';
export * from './data/seeded-random.js';
export * from './models/index.js';
export * from './run/run-spec.js';
export * from './run/run-events.js';
export * from './run/run-training.js';
export * from './run/training-flops.js';
export * from './run/work-meter.js';
export * from './run/workload.js';
export * from './run/model-file.js';
export * from './plugins/plugin-names.js';
export * from './plugins/plugin-registry.js';
