// Training FLOPs of a tfjs-layers model per sample: the multiply-adds of conv and dense layers
// (forward, input gradient and weight gradient), the work a fast backend cannot avoid.
import type * as tfl from '@tensorflow/tfjs-layers';
import { layerForwardFlops } from '@trainhooks/core-hooks/internal';

export { layerForwardFlops };

export interface StepFlops {
  forward: number;
  backward: number;
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
