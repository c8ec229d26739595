import * as tf from '@tensorflow/tfjs-core';
import { afterEach } from 'vitest';
import { createTrainer, type Trainer, type TrainerOptions } from '@trainhooks/core-hooks';
import { freezePlugin, type FreezeEvent, type FreezeOptions, type PlasticityEvent, type UnfreezeEvent } from '@trainhooks/plugin-freeze';
import { denseModel } from '../core-hooks/helpers.js';

const disposeAfter: Trainer[] = [];
afterEach(async () => {
  for (const trainer of disposeAfter.splice(0)) await trainer.dispose();
});

/**
 * A trainer of a 8 → 16 → 16 → 16 → 3 dense model with the freeze plugin (`defaults` under `options`),
 * its freeze / unfreeze / plasticity events recorded; disposed after the test.
 */
export function freezeTrainer(defaults: Partial<FreezeOptions>, options: Partial<FreezeOptions>, optimizer: tf.Optimizer = tf.train.sgd(0.1), seed = 1, trainerOptions: TrainerOptions = {}) {
  const trainer = createTrainer(denseModel(seed, [8, 16, 16, 16, 3]), { optimizer, loss: 'categoricalCrossentropy', ...trainerOptions });
  const plugin = freezePlugin({ ...defaults, ...options });
  trainer.use(plugin);
  const events = { freeze: [] as FreezeEvent[], unfreeze: [] as UnfreezeEvent[], plasticity: [] as PlasticityEvent[] };
  trainer.events.on('freeze', (event) => void events.freeze.push(event));
  trainer.events.on('unfreeze', (event) => void events.unfreeze.push(event));
  trainer.events.on('plasticity', (event) => void events.plasticity.push(event));
  disposeAfter.push(trainer);
  return { trainer, plugin, events };
}

/**
 * Gradients with a known fate, put in place of the real ones (for SGD at `learningRate`): units listed
 * in `settling` get noise that shrinks by 0.7 per step (their weights stop moving); the others get the
 * gradient that moves their weights to a fresh random draw every step (they never settle).
 */
export function scriptGradients(trainer: Trainer, settling: number[], learningRate = 0.1): void {
  trainer.hooks.beforeAllReduce.tap('scripted', (gradients, context) => {
    const replaced = { ...gradients };
    trainer.units.forEach((unit, unitIndex) => {
      unit.variables.forEach((variable, i) => {
        if (!replaced[variable.name]) return;
        replaced[variable.name]!.dispose();
        const seed = context.step * 100 + unitIndex * 10 + i + 1;
        replaced[variable.name] = settling.includes(unitIndex)
          ? tf.randomNormal(variable.shape, 0, 0.2 * 0.7 ** context.step, 'float32', seed)
          : tf.tidy(() => tf.div(tf.sub(variable, tf.randomNormal(variable.shape, 0, 0.5, 'float32', seed)), learningRate));
      });
    });
    return replaced;
  });
}
