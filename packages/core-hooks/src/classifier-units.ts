import type { Unit } from './units.js';

/**
 * How many units at the end of a convolutional model form its classifier: the units after the last
 * one that convolves (holds a kernel of rank ≥ 3: conv1d/2d/3d, depthwise, separable). A CNN's dense
 * layers and head, a ResNet's head. null when no unit convolves (an MLP, a recurrent or attention
 * model: there is no feature extractor to tell apart from the classifier), or when the last unit does.
 */
export function classifierUnits(units: readonly Unit[]): number | null {
  const convolves = (unit: Unit) => unit.variables.some((variable) => variable.rank >= 3);
  let lastConvolving = -1;
  units.forEach((unit, index) => {
    if (convolves(unit)) lastConvolving = index;
  });
  const classifier = units.length - 1 - lastConvolving;
  return lastConvolving >= 0 && classifier > 0 ? classifier : null;
}
