// Hooks a plugin adds for others to tap, one table per trainer (webpack's `getHooks(compilation)`):
// `export const getFreezeHooks = definePluginHooks('FreezePlugin', () => ({ decided: new SyncHook<[number]>(['unit']) }));`
// then `getFreezeHooks(trainer).decided.tap(…)` works whichever of the two sides runs first.
import type { Trainer } from './trainer.js';

export function definePluginHooks<Hooks extends object>(plugin: string, create: () => Hooks): (trainer: Trainer) => Readonly<Hooks> {
  const byTrainer = new WeakMap<Trainer, Readonly<Hooks>>();
  const getHooks = (trainer: Trainer): Readonly<Hooks> => {
    if (trainer === null || typeof trainer !== 'object') {
      throw new Error(`trainhooks: the hooks of ${plugin} belong to a trainer; pass one, got ${String(trainer)}`);
    }
    let hooks = byTrainer.get(trainer);
    if (!hooks) {
      hooks = Object.freeze(create());
      byTrainer.set(trainer, hooks);
    }
    return hooks;
  };
  return getHooks;
}
