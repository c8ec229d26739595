// (b) A hand-written training loop in the tfjs-examples mnist-core style — raw tf.variable weights and
// a forward function, no tfjs-layers — driving trainhooks one step at a time with trainer.step().
// The model declares its units (conv1, conv2, dense) so the plugins can freeze and prune them.
// Run: npx tsx examples/src/adoption/custom-loop.ts
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@trainhooks/backend';
import { createTrainer } from '@trainhooks/core-hooks';
import { freezePlugin } from '@trainhooks/plugin-freeze';
import { gradPrunePlugin } from '@trainhooks/plugin-grad-prune';
import { createMnistCoreModel, loadFashionMnist, toBatchDataset, toTensors } from '@trainhooks/cli';

await setupBackend('auto');
const model = createMnistCoreModel(1);
const trainer = createTrainer(model, { optimizer: tf.train.sgd(0.15), loss: 'categoricalCrossentropy', metrics: ['accuracy'] })
  .use(freezePlugin({ warmupSteps: 40, evalEvery: 10 }))
  .use(gradPrunePlugin());
trainer.events.on('freeze', (event) => console.log(`froze ${event.unit} at step ${event.step}`));

const batches = toBatchDataset(loadFashionMnist({ split: 'train', limit: 6000 }), { batchSize: 64, shuffle: true, seed: 1 });
for (let epoch = 0; epoch < 3; epoch++) {
  let loss = 0;
  let steps = 0;
  for await (const batch of batches) {
    // The ids let a per-sample plugin (the activation cache) recognise a sample it has seen.
    const logs = await trainer.step({ x: batch.xs, y: batch.ys, ids: batch.ids });
    tf.dispose([batch.xs, batch.ys]);
    loss += logs.loss!;
    steps++;
  }
  console.log(`epoch ${epoch + 1}: mean loss ${(loss / steps).toFixed(4)}, frozen prefix ${trainer.frozenPrefix}`);
}

const test = toTensors(loadFashionMnist({ split: 'test', limit: 1000 }));
const { acc } = await trainer.evaluate(test.xs, test.ys);
console.log(`test accuracy ${acc!.toFixed(4)}`);
tf.dispose([test.xs, test.ys]);
await trainer.dispose();
model.dispose();
