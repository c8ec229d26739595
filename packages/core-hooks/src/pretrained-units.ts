// Which units start from pretrained weights. Plugins judge a fine-tuning differently from training from
// scratch (a pretrained front settles within the first epoch; a fresh one is still forming), so the
// trainer says how many leading units came pretrained: replaceHead marks the head it adds as fresh,
// options.pretrainedUnits says it for any other model.
import type * as tf from '@tensorflow/tfjs-core';
import type { Unit } from './units.js';

/** Per model made by replaceHead: the variables of its fresh head. */
const freshVariables = new WeakMap<object, ReadonlySet<tf.Variable>>();

/** Records that `variables` of `model` are freshly initialised (the rest of its weights were trained). */
export function markFreshVariables(model: object, variables: readonly tf.Variable[]): void {
  freshVariables.set(model, new Set(variables));
}

/** Leading units without a fresh variable, for a model replaceHead made; null for any other model. */
export function markedPretrainedUnits(model: object, units: readonly Unit[]): number | null {
  const fresh = freshVariables.get(model);
  if (!fresh) return null;
  const first = units.findIndex((unit) => unit.variables.some((variable) => fresh.has(variable)));
  return first === -1 ? units.length : first;
}

/**
 * The most leading units a plugin may stop training (freeze, prune), given the limit its options set:
 * in a fine-tuning (`pretrainedUnits` > 0) never a unit that started fresh — a new head or new layers
 * are what the fine-tuning is for.
 */
export function withinPretrained(limit: number, pretrainedUnits: number): number {
  return pretrainedUnits > 0 ? Math.min(limit, pretrainedUnits) : limit;
}
