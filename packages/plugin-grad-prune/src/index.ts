// @trainhooks/plugin-grad-prune: stochastic gradient pruning of converged parameter groups.
// @trainhooks/plugin-grad-prune/internal holds the convergence statistics, for tests. Unstable.
export const PACKAGE_NAME = '@trainhooks/plugin-grad-prune';
export { GradPrunePlugin, gradPrunePlugin, type GradPruneReport, type GradPruneState, type GroupSeriesPoint, type PruneEvent } from './grad-prune-plugin.js';
export { DEFAULT_GRAD_PRUNE_OPTIONS, resolveGradPruneOptions, type Draws, type EffectMovementOption, type GradPruneOptions, type GroupBy, type PruneScore } from './options.js';
