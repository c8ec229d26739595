import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, HookStage } from '@trainhooks/core-hooks';
import { denseModel, toyData, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('no tensor leaks across steps', () => {
  for (const frozenPrefix of [0, 2]) {
    it(`numTensors after step 10 equals after step 300 (frozen prefix ${frozenPrefix})`, async () => {
      const { x, y } = toyData(32, 8, 3, 2);
      const trainer = createTrainer(denseModel(9, [8, 16, 16, 16, 3]), {
        optimizer: tf.train.adam(0.01),
        loss: 'categoricalCrossentropy',
        metrics: ['accuracy'],
      });
      trainer.frozenPrefix = frozenPrefix;
      // Exercise every step hook, including a waterfall that replaces the gradients.
      trainer.use({
        apply(t) {
          t.hooks.afterBackward.tap('probe', (context) => void context.gradients);
          t.hooks.beforeAllReduce.tap({ name: 'scale', stage: HookStage.COMMUNICATE }, (gradients) => {
            const scaled: Record<string, tf.Tensor> = {};
            for (const [name, g] of Object.entries(gradients)) scaled[name] = tf.mul(g, 1);
            return scaled;
          });
        },
      });
      let afterStep10 = -1;
      for (let step = 1; step <= 300; step++) {
        await trainer.step({ x, y });
        if (step === 10) afterStep10 = tf.memory().numTensors;
      }
      expect(tf.memory().numTensors).toBe(afterStep10);
      tf.dispose([x, y]);
    });
  }
});
