import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { choiceForBackend } from '@trainhooks/backend';
import { isUnitModel, type Trainer, type PluginDescription, type StatefulPlugin } from '@trainhooks/core-hooks';
import { resolvePipelineOptions, type PipelineOptions } from './options.js';
import { describePlan, type PipelinePlan } from './plan.js';
import { PipelineStrategy, type PipelineFallback, type PipelineStepTiming } from './pipeline-strategy.js';
import type { UnitProfile } from './stage-protocol.js';

declare module '@trainhooks/core-hooks' {
  interface TrainerEventMap {
    /** A new partition took effect at this step (first step, or the frozen prefix / forward start moved). */
    pipelinePlan: { step: number; plan: PipelinePlan };
    /** The run left the pipeline for the local trainer (option fallback 'auto'): the plan and the reason. */
    pipelineFallback: PipelineFallback;
  }
}

export interface PipelineReport {
  readonly options: PipelineOptions;
  /** Every partition used, from the step it took effect. */
  readonly plans: ReadonlyArray<{ step: number; plan: PipelinePlan }>;
  readonly profile: UnitProfile | null;
  /** Per step: wall ms and the measured bubble fraction; with (K−1)/(M+K−1) for comparison. */
  readonly steps: ReadonlyArray<{ step: number; wallMs: number; bubbleFraction: number; idealBubbleFraction: number; stages: number }>;
  /** Why the run left the pipeline for the local trainer, from which step (null: it pipelined throughout). */
  readonly fallback: PipelineFallback | null;
  /** The first steps' comparison, median ms per step pipelined and local (fallback 'auto'). */
  readonly comparison: { readonly pipelinedMs: number | null; readonly localMs: number | null } | null;
}

/**
 * Pipeline parallelism on worker threads: the model is cut into `stages` contiguous runs of units
 * (partition + merge by profiled cost), micro-batches flow forward and gradients backward, and one
 * synchronous update per batch keeps the result that of plain training on the same batch.
 */
export class PipelinePlugin implements StatefulPlugin<Record<string, never>> {
  readonly name = 'PipelinePlugin';
  /** No state of its own: a restored trainer re-plans, and the stages receive the restored weights. */
  readonly stateKey = 'pipeline';
  readonly stateVersion = 1;

  exportState(): Record<string, never> {
    return {};
  }

  importState(): void {}
  readonly options: PipelineOptions;
  private strategy: PipelineStrategy | null = null;
  private readonly plans: Array<{ step: number; plan: PipelinePlan }> = [];
  private readonly steps: Array<PipelineReport['steps'][number]> = [];

  constructor(options: Partial<PipelineOptions> = {}) {
    this.options = resolvePipelineOptions(options);
  }

  apply(trainer: Trainer): void {
    if (isUnitModel(trainer.model)) {
      throw new Error('plugin-pipeline: a { units } model has no architecture a stage thread can rebuild; the pipeline needs a tfjs LayersModel (Sequential or functional)');
    }
    if (this.options.stages > trainer.units.length) {
      throw new Error(`plugin-pipeline: option stages must be at most the model's ${trainer.units.length} units, got ${this.options.stages}`);
    }
    const model = trainer.model as tfl.LayersModel;
    this.strategy = new PipelineStrategy({
      options: this.options,
      topology: model.toJSON(null, false) as object,
      // The stages run what the training thread runs.
      backend: () => choiceForBackend(tf.getBackend()),
      onPlan: (plan, step) => {
        this.plans.push({ step, plan });
        trainer.events.emit('pipelinePlan', { step, plan });
      },
      onStep: (timing: PipelineStepTiming) => {
        const { stages, microBatches } = timing;
        this.steps.push({ step: timing.step, wallMs: timing.wallMs, bubbleFraction: timing.bubbleFraction, idealBubbleFraction: (stages - 1) / (microBatches + stages - 1), stages });
      },
      onFallback: (fallback) => {
        trainer.events.emit('pipelineFallback', fallback);
        console.warn(`plugin-pipeline: ${fallback.reason}; the run goes on with the local trainer from step ${fallback.step} (option fallback: 'never' keeps the pipeline)`);
      },
    });
    trainer.useStrategy(this.strategy, this.name);
  }

  /** The partition the latest step ran with (null before the first step). */
  plan(): PipelinePlan | null {
    return this.strategy?.plan ?? null;
  }

  /** The latest plan as lines of text: stage, units, estimated ms, boundary bytes, predicted speedup. */
  explain(): string {
    const plan = this.plan();
    return plan ? describePlan(plan) : 'pipeline plan: none yet (made at the first step, from a profile of the units)';
  }

  /** How the last step went, per stage (tensors alive in each worker included). */
  lastStep(): PipelineStepTiming | null {
    return this.strategy?.lastStep ?? null;
  }

  /** Stage worker threads still running: `stages` while training, 0 once trainer.dispose() resolved. */
  runningThreads(): number {
    return this.strategy?.runningThreads ?? 0;
  }

  /** How it speeds training, for reports. */
  describe(): PluginDescription {
    return { speedup: 'parallel', communicates: false };
  }

  report(): PipelineReport {
    return {
      options: this.options,
      plans: [...this.plans],
      profile: this.strategy?.unitProfile ?? null,
      steps: [...this.steps],
      fallback: this.strategy?.fellBack ?? null,
      comparison: this.options.fallback === 'auto' ? (this.strategy?.comparison ?? null) : null,
    };
  }
}

export function pipelinePlugin(options: Partial<PipelineOptions> = {}): PipelinePlugin {
  return new PipelinePlugin(options);
}
