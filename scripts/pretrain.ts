// `npm run pretrain [-- --models cnn,resnet,mlp]`: pretrains the backbones the CLI ships
// (packages/cli/data/pretrained/<name>/) on all 60k Fashion-MNIST training images, with the recipes in
// PRETRAIN_RECIPES, and writes beside each model.json a training.json with the recipe, the time and the
// test accuracy of the float16 weights as shipped. Needs the full set: apt-get install dataset-fashion-mnist.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@trainhooks/backend';
import { createTrainer } from '@trainhooks/core-hooks';
import {
  createModel,
  isModelName,
  loadFashionMnist,
  loadModelFile,
  MODEL_INPUT_LAYOUT,
  MODEL_NAMES,
  PRETRAIN_RECIPES,
  saveModelFiles,
  seedMathRandom,
  toTensors,
  type ModelName,
  type PretrainRecord,
} from '@trainhooks/cli/internal';

const OUT_DIR = join(import.meta.dirname, '..', 'packages', 'cli', 'data', 'pretrained');

function parseModels(argv: string[]): ModelName[] {
  const at = argv.indexOf('--models');
  const names = at >= 0 ? (argv[at + 1] ?? '').split(',') : [...MODEL_NAMES];
  for (const name of names) if (!isModelName(name)) throw new Error(`--models: unknown model '${name}'; choose from ${MODEL_NAMES.join(', ')}`);
  return names as ModelName[];
}

const backend = await setupBackend('auto');
console.log(`backend ${backend.choice}, threads ${backend.threads ?? 'n/a'}`);
for (const name of parseModels(process.argv.slice(2))) {
  const recipe = PRETRAIN_RECIPES[name];
  const flatten = MODEL_INPUT_LAYOUT[name] === 'flat';
  const trainSet = loadFashionMnist({ full: true, split: 'train' });
  const testSet = loadFashionMnist({ full: true, split: 'test' });
  const train = toTensors(trainSet, { flatten });
  const test = toTensors(testSet, { flatten });
  const restoreRandom = seedMathRandom(recipe.seed);
  const model = createModel(name, { seed: recipe.seed });
  const optimizer = recipe.optimizer === 'adam' ? tf.train.adam(recipe.learningRate) : tf.train.momentum(recipe.learningRate, 0.9);
  const trainer = createTrainer(model, { optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const start = performance.now();
  await trainer.fit(train.xs, train.ys, {
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    shuffleSeed: recipe.seed,
    callbacks: { onEpochEnd: async (epoch, logs) => console.log(`${name} epoch ${epoch + 1}/${recipe.epochs}: loss ${logs?.loss?.toFixed(4)} acc ${logs?.acc?.toFixed(4)}`) },
  });
  const seconds = (performance.now() - start) / 1000;
  restoreRandom();
  await trainer.dispose();
  const dir = join(OUT_DIR, name);
  const weightBytes = await saveModelFiles(model, dir, { weightDtype: 'float16' });
  model.dispose();

  // The accuracy of what ships: the float16 weights read back.
  const shipped = await loadModelFile(join(dir, 'model.json'));
  const evaluator = createTrainer(shipped, { optimizer: tf.train.sgd(0), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const { acc } = await evaluator.evaluate(test.xs, test.ys, { batchSize: 512 });
  await evaluator.dispose();
  shipped.dispose();
  tf.dispose([train.xs, train.ys, test.xs, test.ys]);

  const record: PretrainRecord = {
    model: name,
    ...recipe,
    data: `Fashion-MNIST, all ${trainSet.count} training images (${trainSet.source})`,
    trainSamples: trainSet.count,
    testAccuracy: Number(acc!.toFixed(4)),
    seconds: Math.round(seconds),
    backend: backend.choice,
    weightDtype: 'float16',
    weightBytes,
  };
  writeFileSync(join(dir, 'training.json'), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`${name}: test accuracy ${record.testAccuracy} (float16 as shipped), ${record.seconds} s, ${(weightBytes / 1e6).toFixed(2)} MB → ${dir}`);
}
