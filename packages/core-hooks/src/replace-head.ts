// Fine-tuning's first move: keep a trained network's backbone, give it a fresh last layer for the new
// task's classes (Keras' "include_top=False + new Dense", Teachable Machine's new classifier).
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { markFreshVariables } from './pretrained-units.js';

export interface ReplaceHeadOptions {
  /** Seeds the new head's kernel initialiser (glorot uniform): the same seed, the same head. */
  readonly seed?: number;
  /** The new head's activation; default: the old head's (e.g. softmax). */
  readonly activation?: string;
  /** The new layer's name; default: the old head's name. */
  readonly name?: string;
}

/**
 * A model with `model`'s layers up to its last one, and a new Dense layer of `classes` units on top.
 * A trainer over it reports every unit below the new head as pretrained (`trainer.pretrainedUnits`).
 * The backbone's layers are shared, not copied: their weights — BatchNorm moving statistics included —
 * are the ones `model` holds. The result is not compiled; a Sequential stays Sequential. Do not dispose
 * `model` while the result is in use (they share the backbone's variables).
 */
export function replaceHead(model: tfl.LayersModel, classes: number, options: ReplaceHeadOptions = {}): tfl.LayersModel {
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`replaceHead: classes must be an integer ≥ 1, got ${String(classes)}`);
  if (model.outputs.length !== 1) throw new Error(`replaceHead: the model has ${model.outputs.length} outputs; a head can be replaced on a single-output model only`);
  const head = model.layers[model.layers.length - 1];
  if (!head || head.getClassName() !== 'Dense') {
    throw new Error(`replaceHead: the last layer must be Dense (the classifier), got ${head ? head.getClassName() : 'no layer'}`);
  }
  const config = head.getConfig();
  const newHead = tfl.layers.dense({
    name: options.name ?? head.name,
    units: classes,
    activation: (options.activation ?? config.activation ?? 'linear') as 'softmax',
    useBias: config.useBias as boolean | undefined,
    kernelInitializer: tfl.initializers.glorotUniform({ seed: options.seed }),
  });
  let replaced: tfl.LayersModel;
  if (model instanceof tfl.Sequential) {
    replaced = tfl.sequential({ name: model.name, layers: [...model.layers.slice(0, -1), newHead] });
  } else {
    const backboneOutput = head.input;
    if (Array.isArray(backboneOutput)) throw new Error(`replaceHead: the head ${head.name} takes several inputs`);
    replaced = tfl.model({ name: model.name, inputs: model.inputs, outputs: newHead.apply(backboneOutput) as tfl.SymbolicTensor });
  }
  // A trainer over the result knows every unit but the head starts pretrained (trainer.pretrainedUnits).
  markFreshVariables(replaced, newHead.weights.map((weight) => weight.read() as tf.Variable));
  return replaced;
}
