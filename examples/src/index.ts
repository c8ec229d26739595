// @trainhooks/examples: Fashion-MNIST data and the reference models used by the demo, benchmarks and tests.
export * from './data/idx.js';
export * from './data/fashion-mnist.js';
export * from './data/tensors.js';
export * from './data/batch-dataset.js';
export * from './data/data-args.js';
export * from './data/seeded-random.js';
export * from './models/index.js';
