// restoreTrainer: a checkpoint written by trainer.save back into a trainer — the weights into the given
// model, the plugins attached, every state loaded — whose next fit continues where the run stopped.
import type * as tf from '@tensorflow/tfjs-core';
import { readCheckpoint } from './checkpoint.js';
import { loadLayersModelFiles, loadVariableValues } from './checkpoint-weights.js';
import type { TrainerOptions } from './options.js';
import { createTrainer, type TrainableModel, type Trainer, type TrainerPlugin } from './trainer.js';
import { isUnitModel, unitWeights } from './units.js';

/**
 * Reads the checkpoint in `dir` into `model` (built with the same architecture, compiled as before when
 * the trainer took its loss and optimizer from it) and returns a trainer with `plugins` attached and
 * their states loaded. A checkpoint of another model, another plugin set or a damaged file is refused
 * with the difference named (the weights are checked whole before any is assigned).
 */
export async function restoreTrainer(dir: string, model: TrainableModel, plugins: readonly TrainerPlugin[] = [], options?: TrainerOptions): Promise<Trainer> {
  const { contents, modelFiles } = readCheckpoint(dir);
  const trainer = createTrainer(model, options);
  for (const plugin of plugins) trainer.use(plugin);
  if (isUnitModel(model)) {
    if (!contents.variables) throw new Error(`trainhooks: the checkpoint ${dir} was saved from a tfjs-layers model; this is a model of raw variables`);
    loadVariableValues(unitWeights(trainer.units).map((weight) => weight.variable as tf.Variable), contents.variables);
  } else {
    loadLayersModelFiles(model, modelFiles);
  }
  await trainer.importState(contents.state);
  return trainer;
}
