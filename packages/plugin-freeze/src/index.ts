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
export { DEFAULT_FREEZE_OPTIONS, resolveFreezeOptions, type FreezeCriterion, type FreezeOptions, type ReferencePlacement } from './options.js';
export { spLoss, similarity } from './sp-loss.js';
export { quantizeInt8, dequantizeInt8, channelCount, type QuantizedTensor } from './quantize.js';
export { observeDrift, emptyTrend, theilSenSlope, type TrendOptions, type TrendState, type TrendVerdict } from './plasticity-trend.js';
export { observeEffect, emptyEffect, outputKind, predictionDistance, toProbabilities, totalVariation, type OutputKind, type EffectOptions, type EffectState, type EffectVerdict } from './output-effect.js';
export { evaluatePlasticity, type EvaluationInput, type EvaluationOutput, type TensorData } from './plasticity-evaluation.js';
export { SnapshotRing, type Snapshot } from './snapshot-ring.js';
