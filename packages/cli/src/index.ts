// @trainhooks/cli: the reference workloads (Fashion-MNIST, the cnn / mlp / resnet models) and the
// train / ablate machinery behind the `trainhooks` command, usable from code.
export * from './data/idx.js';
export * from './data/fashion-mnist.js';
export * from './data/tensors.js';
export * from './data/batch-dataset.js';
export * from './data/data-args.js';
export * from './data/seeded-random.js';
export * from './models/index.js';
