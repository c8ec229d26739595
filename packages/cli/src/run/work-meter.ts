// Measures the work the plugins skipped, the same way for every configuration (the baseline reads 0):
// an observer on the hook bus that reads each finished step's decisions from the step context.
// Work is counted in conv/dense multiply-adds (training-flops.ts), per unit:
// - forward skipped: units before context.forwardStart (served by a cache);
// - backward skipped: units of the frozen prefix (weight and input gradients), the input gradient of
//   the first trained unit (nothing upstream needs it), and the weight gradient of every unit whose
//   kernel is in context.skip (pruned);
// - gradient bytes not communicated: the float32 gradients a data-parallel all-reduce would not send
//   (frozen and skipped variables).
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { HookStage, type StatefulPlugin, type StepContext, type Trainer } from '@trainhooks/core-hooks';
import { layerForwardFlops } from './training-flops.js';

export interface WorkTotals {
  readonly steps: number;
  readonly samples: number;
  readonly forwardFlops: number;
  readonly forwardFlopsSkipped: number;
  readonly backwardFlops: number;
  readonly backwardFlopsSkipped: number;
  readonly gradientBytes: number;
  readonly gradientBytesNotCommunicated: number;
}

export interface FrozenPrefixChange {
  readonly step: number;
  /** Training seconds (evaluations excluded) when the step that first ran with it finished. */
  readonly seconds: number;
  readonly frozenPrefix: number;
}

interface UnitWork {
  /** Forward FLOPs per sample. */
  readonly flops: number;
  /** Whether its input gradient is needed when the whole model trains (every weighted unit but the first). */
  readonly needsInputGradient: boolean;
  readonly kernelNames: readonly string[];
  readonly variables: ReadonlyArray<{ readonly name: string; readonly size: number }>;
}

/** The totals and the frozen-prefix timeline so far: a resumed run's report covers the whole run. */
export interface WorkMeterState {
  readonly totals: WorkTotals;
  readonly changes: FrozenPrefixChange[];
}

export class WorkMeter implements StatefulPlugin<WorkMeterState> {
  readonly name = 'WorkMeter';
  readonly stateKey = 'work-meter';
  readonly stateVersion = 1;
  private units: UnitWork[] = [];
  private totals = { steps: 0, samples: 0, forwardFlops: 0, forwardFlopsSkipped: 0, backwardFlops: 0, backwardFlopsSkipped: 0, gradientBytes: 0, gradientBytesNotCommunicated: 0 };
  private changes: FrozenPrefixChange[] = [];

  /** @param trainingSeconds the run's training clock (paused during evaluations). */
  constructor(
    private readonly model: tfl.LayersModel,
    private readonly trainingSeconds: () => number,
  ) {}

  apply(trainer: Trainer): void {
    this.units = describeUnits(this.model, trainer);
    trainer.hooks.afterStep.tapPromise({ name: this.name, stage: HookStage.OBSERVE }, async (context) => this.observe(context));
  }

  get work(): WorkTotals {
    return { ...this.totals };
  }

  exportState(): WorkMeterState {
    return { totals: { ...this.totals }, changes: this.changes.map((change) => ({ ...change })) };
  }

  importState(state: WorkMeterState): void {
    this.totals = { ...state.totals };
    this.changes = state.changes.map((change) => ({ ...change }));
  }

  get frozenPrefixChanges(): readonly FrozenPrefixChange[] {
    return this.changes;
  }

  private observe(context: StepContext): void {
    const batch = context.batchSize;
    const t = this.totals;
    t.steps++;
    t.samples += batch;
    let firstTrainedSeen = false;
    this.units.forEach((unit, index) => {
      const backward = unit.flops * (unit.needsInputGradient ? 2 : 1);
      const bytes = unit.variables.reduce((sum, variable) => sum + 4 * variable.size, 0);
      t.forwardFlops += unit.flops * batch;
      t.backwardFlops += backward * batch;
      t.gradientBytes += bytes;
      if (index < context.forwardStart.unit) t.forwardFlopsSkipped += unit.flops * batch;
      if (index < context.frozenPrefix) {
        t.backwardFlopsSkipped += backward * batch;
        t.gradientBytesNotCommunicated += bytes;
        return;
      }
      if (!firstTrainedSeen && unit.flops > 0) {
        firstTrainedSeen = true;
        if (unit.needsInputGradient) t.backwardFlopsSkipped += unit.flops * batch;
      }
      if (unit.kernelNames.some((name) => context.skip.has(name))) t.backwardFlopsSkipped += unit.flops * batch;
      for (const variable of unit.variables) if (context.skip.has(variable.name)) t.gradientBytesNotCommunicated += 4 * variable.size;
    });
    if (this.changes.at(-1)?.frozenPrefix !== context.frozenPrefix) {
      this.changes.push({ step: context.step, seconds: this.trainingSeconds(), frozenPrefix: context.frozenPrefix });
    }
  }
}

/** Each trainer unit's conv/dense work, found through the layers that own its variables. */
function describeUnits(model: tfl.LayersModel, trainer: Trainer): UnitWork[] {
  const layerOf = new Map<string, tfl.layers.Layer>();
  for (const layer of model.layers) for (const weight of layer.trainableWeights) layerOf.set((weight.read() as tf.Variable).name, layer);
  let weightedSeen = false;
  return trainer.units.map((unit) => {
    const layers = [...new Set(unit.variables.map((variable) => layerOf.get(variable.name)).filter((layer) => layer !== undefined))];
    const weighted = layers.map((layer) => ({ layer, flops: layerForwardFlops(layer) })).filter(({ flops }) => flops > 0);
    const flops = weighted.reduce((sum, entry) => sum + entry.flops, 0);
    const needsInputGradient = weightedSeen;
    if (flops > 0) weightedSeen = true;
    return {
      flops,
      needsInputGradient,
      kernelNames: weighted.map(({ layer }) => (layer.trainableWeights[0]!.read() as tf.Variable).name),
      variables: unit.variables.map((variable) => ({ name: variable.name, size: variable.size })),
    };
  });
}
