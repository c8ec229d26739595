// @trainhooks/plugin-pipeline: forward/backward pipelining over worker threads.
// @trainhooks/plugin-pipeline/internal holds the planner, the schedule and the deferred tape. Unstable.
export const PACKAGE_NAME = '@trainhooks/plugin-pipeline';
export { PipelinePlugin, pipelinePlugin, type PipelineReport } from './pipeline-plugin.js';
export { DEFAULT_PIPELINE_OPTIONS, resolvePipelineOptions, type PipelineOptions, type PipelineSchedule } from './options.js';
export type { PipelinePlan, StagePlan } from './plan.js';
export type { PipelineFallback } from './pipeline-strategy.js';
