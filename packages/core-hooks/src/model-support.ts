// Models the trainer cannot train exactly are refused when the trainer is created, never trained
// differently from model.fit.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Unit } from './units.js';

/** Layers whose output carries a mask to the layers after it (tfjs passes masks between layers). */
function producesMask(layer: tfl.layers.Layer): boolean {
  if (layer.getClassName() === 'Masking') return true;
  const config = layer.getConfig() as { maskZero?: unknown };
  return config.maskZero === true;
}

/** One input, one output, no masks between layers. */
export function checkLayersModel(model: tfl.LayersModel): void {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(
      `trainhooks: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; ` +
        'only models with one input and one output can be trained (units are cut along one tensor)',
    );
  }
  const masking = model.layers.filter(producesMask).map((layer) => layer.name);
  if (masking.length > 0) {
    throw new Error(
      `trainhooks: layer(s) ${masking.join(', ')} pass a mask to the layers after them; units run layer by layer ` +
        'without masks, so this model would train differently from model.fit and is refused',
    );
  }
}

/** Units are well formed, own disjoint variables, and (for a LayersModel) cover every trainable weight. */
export function checkUnits(units: unknown, model: tfl.LayersModel | null): asserts units is readonly Unit[] {
  if (!Array.isArray(units) || units.length === 0) {
    throw new Error(`trainhooks: units must be a non-empty array of units, got ${Array.isArray(units) ? '[]' : String(units)}`);
  }
  const owner = new Map<string, string>();
  units.forEach((unit: Partial<Unit> | null, index) => {
    if (!unit || typeof unit.apply !== 'function' || !Array.isArray(unit.variables) || typeof unit.name !== 'string') {
      throw new Error(`trainhooks: units[${index}] must have a name, a variables array and an apply(input, { training }) function`);
    }
    for (const variable of unit.variables) {
      const previous = owner.get(variable.name);
      if (previous !== undefined) {
        throw new Error(
          `trainhooks: variable ${variable.name} belongs to units '${previous}' and '${unit.name}'; a variable shared ` +
            'across units cannot be frozen or skipped in one and trained in the other — put its users in one unit',
        );
      }
      owner.set(variable.name, unit.name);
    }
  });
  if (!model) return;
  const missing = model.trainableWeights.map((weight) => (weight.read() as tf.Variable).name).filter((name) => !owner.has(name));
  if (missing.length > 0) {
    throw new Error(`trainhooks: the units leave trainable weight(s) ${missing.join(', ')} of the model out; every one must belong to a unit`);
  }
}
