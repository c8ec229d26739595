// Training FLOPs of a tfjs-layers model per sample: the multiply-adds of conv and dense layers
// (forward, input gradient and weight gradient), the work a fast backend cannot avoid.
import type * as tfl from '@tensorflow/tfjs-layers';

export interface StepFlops {
  forward: number;
  backward: number;
}

function shapeOf(shape: unknown): number[] {
  const first = Array.isArray(shape) && Array.isArray(shape[0]) ? shape[0] : shape;
  return (first as Array<number | null>).map((d) => d ?? 1);
}

/** Forward FLOPs (2 per multiply-add) of one layer for one sample; 0 for layers without conv/dense work. */
export function layerForwardFlops(layer: tfl.layers.Layer): number {
  const className = layer.getClassName();
  if (className === 'Conv2D') {
    const [kh, kw, ci, co] = layer.getWeights()[0]!.shape as number[];
    const [, oh, ow] = shapeOf(layer.outputShape);
    return 2 * oh! * ow! * kh! * kw! * ci! * co!;
  }
  if (className === 'DepthwiseConv2D') {
    const [kh, kw, ci, multiplier] = layer.getWeights()[0]!.shape as number[];
    const [, oh, ow] = shapeOf(layer.outputShape);
    return 2 * oh! * ow! * kh! * kw! * ci! * multiplier!;
  }
  if (className === 'Dense') {
    const [inputs, outputs] = layer.getWeights()[0]!.shape as number[];
    return 2 * inputs! * outputs!;
  }
  return 0;
}

/** FLOPs of one training step at `batchSize`. */
export function trainingStepFlops(model: tfl.LayersModel, batchSize: number): StepFlops {
  let forward = 0;
  let backward = 0;
  let first = true;
  for (const layer of model.layers) {
    const layerFlops = layerForwardFlops(layer);
    if (layerFlops === 0) continue;
    forward += layerFlops * batchSize;
    // Weight gradient always; input gradient for every layer but the first.
    backward += layerFlops * batchSize * (first ? 1 : 2);
    first = false;
  }
  return { forward, backward };
}
