// @trainhooks/plugin-freeze/internal — UNSTABLE. The public API plus the pieces the criteria are built
// from (quantization, SP loss, drift trend, output effect, the reference evaluation), for tests.
export * from './index.js';
export { spLoss, similarity } from './sp-loss.js';
export { quantizeInt8, dequantizeInt8, channelCount, type QuantizedTensor } from './quantize.js';
export { observeDrift, emptyTrend, theilSenSlope, type TrendOptions, type TrendState, type TrendVerdict } from './plasticity-trend.js';
export { observeEffect, emptyEffect, type EffectOptions, type EffectState, type EffectVerdict } from './output-effect.js';
export { evaluatePlasticity, type EvaluationInput, type EvaluationOutput, type TensorData } from './plasticity-evaluation.js';
export { SnapshotRing, type Snapshot } from './snapshot-ring.js';
