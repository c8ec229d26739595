// `npm run demo`: trains a reference model on Fashion-MNIST through the trainhooks trainer, with a
// progress bar, then prints the test accuracy. Embedded 10k/2k subset unless --full or --data-dir.
import { parseArgs } from 'node:util';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { createTrainer } from '@trainhooks/core-hooks';
import { createModel, isModelName, loadFashionMnist, MODEL_INPUT_LAYOUT, parseDataArgs, toTensors } from '@trainhooks/cli';
import { trainingProgress } from './progress.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'cnn' },
    epochs: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '32' },
    backend: { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '1' },
    'data-dir': { type: 'string' },
    full: { type: 'boolean', default: false },
  },
});

const modelName = values.model!;
if (!isModelName(modelName)) throw new Error(`--model must be cnn, mlp or resnet (got ${modelName})`);
const epochs = Number(values.epochs);
const batchSize = Number(values['batch-size']);

await setupBackend(values.backend as BackendChoice);
const source = parseDataArgs(process.argv.slice(2));
const trainSet = loadFashionMnist({ ...source, split: 'train' });
const testSet = loadFashionMnist({ ...source, split: 'test' });
const flatten = MODEL_INPUT_LAYOUT[modelName] === 'flat';
const train = toTensors(trainSet, { flatten });
const test = toTensors(testSet, { flatten });
console.log(`data: ${trainSet.count} train / ${testSet.count} test samples from ${trainSet.source}`);
console.log(`model: ${modelName}, ${epochs} epochs, batch ${batchSize}`);

const trainer = createTrainer(createModel(modelName, { seed: Number(values.seed) }));
const progress = trainingProgress({ epochs, samples: trainSet.count, batchSize });
await trainer.fit(train.xs, train.ys, {
  epochs,
  batchSize,
  shuffle: true,
  sampleIds: train.ids,
  callbacks: progress.callbacks,
});
progress.stop();

const result = await trainer.evaluate(test.xs, test.ys, { batchSize: 256 });
const stepStats = trainer.stats().phases.step!;
console.log(`step time p50 ${(stepStats.p50Us / 1000).toFixed(1)} ms, p99 ${(stepStats.p99Us / 1000).toFixed(1)} ms`);
console.log(`test loss ${result.loss!.toFixed(4)}, test accuracy ${(result.acc ?? NaN).toFixed(4)}`);
await trainer.dispose();
