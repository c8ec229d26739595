import * as tf from '@tensorflow/tfjs-core';
import { createTrainer, type Trainer } from '@trainhooks/core-hooks';
import { gradPrunePlugin, type GradPruneOptions, type PruneEvent } from '@trainhooks/plugin-grad-prune';
import { denseModel } from '../core-hooks/helpers.js';

/** A small dense trainer with the plugin, gradients replaced by `script` (their fate known), prune events collected. */
export function scriptedPruneTrainer(modelSeed: number, options: Partial<GradPruneOptions>, script: (trainer: Trainer) => void, optimizer: tf.Optimizer = tf.train.sgd(0.1)) {
  const trainer = createTrainer(denseModel(modelSeed), { optimizer, loss: 'categoricalCrossentropy' });
  const plugin = gradPrunePlugin(options);
  trainer.use(plugin);
  script(trainer);
  const events: PruneEvent[] = [];
  trainer.events.on('prune', (event) => void events.push(event));
  return { trainer, plugin, events };
}

export async function train(trainer: Trainer, steps: number, batch: { x: tf.Tensor; y: tf.Tensor }): Promise<void> {
  for (let i = 0; i < steps; i++) await trainer.step(batch);
}
