// Forward FLOPs of a tfjs-layers layer per sample: the multiply-adds of conv and dense layers (2 FLOPs
// each), the work a fast backend cannot avoid. A weight gradient costs about as much again, and so
// does an input gradient.
import type * as tfl from '@tensorflow/tfjs-layers';

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
