// @trainhooks/plugin-freeze: progressive layer freezing judged against a lagging quantized reference.
// @trainhooks/plugin-freeze/internal holds the criteria's building blocks, for tests. Unstable.
export const PACKAGE_NAME = '@trainhooks/plugin-freeze';
export {
  FreezePlugin,
  freezePlugin,
  type FreezeEvent,
  type UnfreezeEvent,
  type FreezeErrorEvent,
  type FreezeReport,
  type FreezeState,
  type PlasticityEvent,
  type PlasticityPoint,
} from './freeze-plugin.js';
export { DEFAULT_FREEZE_OPTIONS, resolveFreezeOptions, type EffectMovement, type FreezeCriterion, type FreezeOptions, type ReferencePlacement } from './options.js';
