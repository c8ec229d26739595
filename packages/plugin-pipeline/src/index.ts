export const PACKAGE_NAME = '@trainhooks/plugin-pipeline';
export { PipelinePlugin, pipelinePlugin, type PipelineReport } from './pipeline-plugin.js';
export { DEFAULT_PIPELINE_OPTIONS, resolvePipelineOptions, type PipelineOptions, type PipelineSchedule } from './options.js';
export { partitionUnits, stageCost, type Partition, type PartitionCosts, type StageRange } from './partition.js';
export { planStep, describePlan, partitionCosts, type PipelinePlan, type StagePlan, type PlanRequest } from './plan.js';
export { stageOperations, microBatchSizes, microBatchOffsets, type StageOperation } from './schedule.js';
export { recordForward, backwardOfRecorded, discardForward, type RecordedForward } from './deferred-tape.js';
export { PipelineStrategy, type PipelineStepTiming, type PipelineStrategyConfig } from './pipeline-strategy.js';
export type { UnitProfile } from './stage-protocol.js';
