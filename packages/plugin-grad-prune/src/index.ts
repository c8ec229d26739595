export { GradPrunePlugin, gradPrunePlugin, type GradPruneReport, type GradPruneState, type GroupSeriesPoint, type PruneEvent } from './grad-prune-plugin.js';
export { DEFAULT_GRAD_PRUNE_OPTIONS, resolveGradPruneOptions, type Draws, type GradPruneOptions, type GroupBy } from './options.js';
export { ConvergenceMonitor, newGroupStatistic, type ConvergenceScore, type GroupObservation, type GroupStatistic, type ParameterGroup } from './convergence-monitor.js';
export { growthExponent, saturationConvergence, type Displacement } from './displacement-growth.js';
export { parameterGroups } from './parameter-groups.js';
export { pruneProbability } from './prune-probability.js';

export const PACKAGE_NAME = '@trainhooks/plugin-grad-prune';
