// @trainhooks/plugin-pipeline/internal — UNSTABLE. The public API plus the partitioner, the planner,
// the micro-batch schedule, the deferred tape and the strategy itself, for tests.
export * from './index.js';
export { partitionUnits, stageCost, type Partition, type PartitionCosts, type StageRange } from './partition.js';
export { planStep, describePlan, partitionCosts, type PlanRequest } from './plan.js';
export { stageOperations, microBatchSizes, microBatchOffsets, type StageOperation } from './schedule.js';
export { recordForward, backwardOfRecorded, discardForward, type RecordedForward } from './deferred-tape.js';
export { WeightGradientDeferral } from './weight-gradient-deferral.js';
export { PipelineStrategy, type PipelineStepTiming, type PipelineStrategyConfig } from './pipeline-strategy.js';
export type { UnitProfile } from './stage-protocol.js';
