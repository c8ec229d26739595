// (a) An existing `model.fit` script, moved onto trainhooks by changing three lines (marked
// "trainhooks"): two imports, and `model.fit(` becomes `createTrainer(model).use(…).fit(`. Everything
// else — the model, compile, the fit options, the History it returns — stays as it was.
// Run: npx tsx examples/src/adoption/model-fit.ts
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createTrainer } from '@trainhooks/core-hooks'; // trainhooks
import { gradPrunePlugin } from '@trainhooks/plugin-grad-prune'; // trainhooks
import { loadFashionMnist, toTensors } from '@trainhooks/cli';

await tf.setBackend('cpu');
const { xs, ys } = toTensors(loadFashionMnist({ split: 'train', limit: 2000 }), { flatten: true });

const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
    tfl.layers.dense({ units: 128, activation: 'relu' }),
    tfl.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const history = await createTrainer(model).use(gradPrunePlugin()).fit(xs, ys, { epochs: 3, batchSize: 64, shuffle: true, validationSplit: 0.1 }); // trainhooks: was model.fit(xs, ys, …)

console.log('validation accuracy per epoch:', history.history.val_acc?.map((value) => value.toFixed(4)).join(', '));
tf.dispose([xs, ys]);
