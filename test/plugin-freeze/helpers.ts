import * as tf from '@tensorflow/tfjs-core';
import type { Trainer } from '@trainhooks/core-hooks';

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
