// @trainhooks/core-hooks/internal — UNSTABLE. The public API plus the plumbing that sibling packages,
// tests and benchmarks share: per-variable optimizer stores, fused-update kernel names, telemetry,
// tensor/buffer and float16 helpers. No semver promise: any name here may change in a patch release.
export * from './index.js';
export { createHooks } from './hooks.js';
export { createEvents } from './events.js';
export { createStepContext } from './step-context.js';
export { evaluateUnits, type EvaluateOptions } from './evaluate.js';
export { VariableOptimizers, cloneOptimizer } from './variable-optimizers.js';
export { AdamPerVariable } from './adam-per-variable.js';
export { ADAM_SLOTS, FUSED_ADAM_KERNEL, hasFusedAdam, type FusedAdamAttrs } from './fused-adam-kernel.js';
export { RmsPropPerVariable } from './rmsprop-per-variable.js';
export { FUSED_RMSPROP_KERNEL, hasFusedRmsProp, RMSPROP_SLOTS, type FusedRmsPropAttrs } from './fused-rmsprop-kernel.js';
export { ClonePerVariable, perVariableStore, type PerVariableStore } from './per-variable-store.js';
export type { SavedTensor, VariableSlotState } from './optimizer-slots.js';
export { resolveLoss, resolveMetrics } from './loss.js';
export { Telemetry } from './telemetry.js';
export { SeededRandom, shuffleInPlace } from './seeded-random.js';
export { DropoutSeeds, mixSeed } from './dropout-seeds.js';
export { withinPretrained } from './pretrained-units.js';
export { classifierUnits } from './classifier-units.js';
export { layerForwardFlops } from './layer-flops.js';
export { readTensorInto, tensorFromBuffer } from './tensor-buffers.js';
export { toHalf, fromHalf, encodeHalf, decodeHalf } from './float16.js';
export { median } from './median.js';
export { fullRateEffect, type EffectMovement, type MeasuredEffect } from './full-rate-effect.js';
export { measurementSpacing, type SpacingInput } from './measurement-spacing.js';
export { directedEffect, outputKind, predictionDistance, toProbabilities, totalVariation, type OutputKind } from './prediction-distance.js';
export { concatenateBytes } from './concatenate-bytes.js';
export { encodeState, decodeState, type EncodedState } from './state-codec.js';
