// @trainhooks/plugin-grad-prune/internal — UNSTABLE. The public API plus the convergence statistics
// and the pruning probability, for tests.
export * from './index.js';
export { ConvergenceMonitor, newGroupStatistic, type ConvergenceScore, type GroupObservation, type GroupStatistic, type ParameterGroup } from './convergence-monitor.js';
export { growthExponent, saturationConvergence, type Displacement } from './displacement-growth.js';
export { parameterGroups } from './parameter-groups.js';
export { pruneProbability } from './prune-probability.js';
export { OutputEffectMonitor, type EffectObservation, type EffectSettings, type EffectStatistic, type SavedEffectRing } from './output-effect-monitor.js';
export { fullRateEffect, type EffectMovement, type MeasuredEffect } from '@trainhooks/core-hooks/internal';
