import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { choiceForBackend } from '@trainhooks/backend';
import { HookStage, isUnitModel, measurementSpacing, median, unitWeights, withinPretrained, type StepContext, type Trainer, type PluginDescription, type StatefulPlugin } from '@trainhooks/core-hooks/internal';
import { resolveFreezeOptions, unitsKeptTraining, type FreezeOptions } from './options.js';
import type { EvaluationInput, EvaluationOutput, TensorData } from './plasticity-evaluation.js';
import { emptyEffect, observeEffect, type EffectState } from './output-effect.js';
import { emptyTrend, observeDrift, restartTrend, type TrendState, type TrendVerdict } from './plasticity-trend.js';
import { MainThreadReference, WorkerReference, type ReferenceRunner } from './reference-runner.js';
import { SnapshotRing, type Snapshot } from './snapshot-ring.js';
import { decodeQuantized, encodeQuantized, type SavedQuantizedTensor } from './state-codec.js';
import { judgedEffect, TrainedSteps, trainedShare, trainingWindow, type TrainingWindow } from './trained-steps.js';

export interface FreezeEvent {
  /** The unit's name. */
  readonly unit: string;
  readonly index: number;
  readonly step: number;
  readonly epoch: number;
}

export interface UnfreezeEvent extends FreezeEvent {
  readonly reason: string;
}

/** One unit's result of one evaluation. */
export interface PlasticityPoint extends TrendVerdict {
  readonly step: number;
  readonly epoch: number;
  /** SP loss between the unit's activations now and in the snapshot `referenceLag` evaluations old; null under 'output-effect', which does not read it (not measured). */
  readonly drift: number | null;
  /**
   * What criterion 'output-effect' reads: with effectMovement 'directed', the directed part of the unit's
   * movement over referenceLag evaluations once `farEffect` is measured (output-effect.ts), else `lagEffect`.
   */
  readonly effect: number | null;
  /** Probability mass of the probe's predictions that undoing this unit's last referenceLag evaluations of learning moves. */
  readonly lagEffect: number | null;
  /**
   * Share of the lag's steps the unit trained on (another plugin, e.g. grad-prune, may rest it): its
   * effects are judged as if it had trained on every one (trained-steps.ts), so resting it does not
   * make it look settled. 1 when nothing rested it; null when no effect was measured.
   */
  readonly trainedShare: number | null;
  /** The same, undoing 2·referenceLag evaluations; null unless the directed movement is judged (report().regime.effectMovement) and the ring reaches that far. */
  readonly farEffect: number | null;
  /** Median of the unit's last `patience` effects: what criterion 'output-effect' compares with effectThreshold. */
  readonly effectLevel: number | null;
  /** With probe labels: the rise of the probe's cross-entropy when this unit's recent learning is undone. */
  readonly lossEffect: number | null;
  /** With probe labels: the probe's cross-entropy now and with every active unit at the reference. */
  readonly probeLoss: { now: number; atReference: number } | null;
}

export interface PlasticityEvent {
  readonly step: number;
  readonly epoch: number;
  readonly units: Array<PlasticityPoint & { readonly unit: string; readonly index: number }>;
}

export interface FreezeErrorEvent {
  readonly step: number;
  readonly error: string;
  /** Pool restarts so far. */
  readonly restarts: number;
  /** true: maxRestarts is spent, no more evaluations (training goes on with the prefix as it is). */
  readonly gaveUp: boolean;
}

declare module '@trainhooks/core-hooks' {
  interface TrainerEventMap {
    freeze: FreezeEvent;
    unfreeze: UnfreezeEvent;
    plasticity: PlasticityEvent;
    freezeError: FreezeErrorEvent;
  }
}

export interface FreezeReport {
  readonly placement: 'worker' | 'main-thread';
  /**
   * How the run was judged: 'fine-tuning' when the trainer reports pretrained units (replaceHead, or
   * options.pretrainedUnits) — then only those may freeze — else 'from-scratch'. The criterion and
   * its threshold are the same in both (BENCHMARKS.md: looser thresholds for fine-tuning cost accuracy);
   * `effectMovement` is what effectMovement 'auto' resolved to ('directed' in a fine-tuning, 'total'
   * from scratch), or the option as given.
   */
  readonly regime: {
    readonly name: 'fine-tuning' | 'from-scratch';
    readonly pretrainedUnits: number;
    readonly maxFrozenUnits: number;
    readonly effectMovement: 'directed' | 'total';
  };
  readonly units: Array<{
    readonly index: number;
    readonly name: string;
    readonly series: PlasticityPoint[];
    /** Where the unit's test stands now: why it is, or is not, frozen. */
    readonly lastVerdict: TrendVerdict | null;
    readonly frozen: boolean;
  }>;
  /** Every change of the frozen prefix. */
  readonly timeline: Array<{ step: number; epoch: number; frozenPrefix: number; reason: string }>;
  readonly evaluations: number;
  /** Evaluation points skipped because the worker was still busy with the previous one. */
  readonly skippedEvaluations: number;
  /** Evaluation points where only a snapshot was taken: the first active unit was far from passing (maxEvalSpacing). */
  readonly spacedOutEvaluations: number;
  /** The first step boundary at which the next full evaluation may start. */
  readonly nextEvaluationStep: number;
  readonly failures: number;
  readonly restarts: number;
  /** Time of one evaluation that measured units, where it ran (worker or main thread), median; snapshot-only boundaries are not counted. */
  readonly medianEvaluationMs: number;
  /** Time the plugin spent on the training thread (reading weights, applying results; the whole evaluation on the main thread). */
  readonly mainThreadMs: number;
  readonly mainThreadMsPerStep: number;
  readonly steps: number;
  /** Bytes of the int8 snapshot ring. */
  readonly ringBytes: number;
}

interface Pending {
  readonly startStep: number;
  readonly fromUnit: number;
  /** Per unit, the steps trained on so far when it started: the snapshot it takes keeps them. */
  readonly trained: number[];
  /** The stretches its effects measure: since the reference (lag) and since the one twice as old. */
  readonly lagWindow: TrainingWindow | null;
  readonly farWindow: TrainingWindow | null;
  /** The learning-rate epoch it belongs to: a result started before an LR change is not compared. */
  readonly generation: number;
  promise: Promise<void>;
  output: EvaluationOutput | null;
  error: unknown;
  settled: boolean;
}

/** Plain data and typed arrays for exact resume (see exportState); stateVersion 2. */
export interface FreezeState {
  readonly probe: { data: Float32Array; shape: number[] } | null;
  readonly ring: Array<{ step: number; tensors: SavedQuantizedTensor[]; trained?: number[] }>;
  /** Per unit, the steps trained on so far (trained-steps.ts); absent in older states: every step counts. */
  readonly trainedSteps?: number[];
  readonly trends: TrendState[];
  /** Absent in states saved before the output-effect criterion: every streak starts at 0. */
  readonly effects?: EffectState[];
  readonly series: PlasticityPoint[][];
  readonly verdicts: Array<TrendVerdict | null>;
  readonly timeline: FreezeReport['timeline'];
  readonly learningRate: number | null;
  readonly pendingUnfreeze: string | null;
  readonly pending: {
    startStep: number;
    fromUnit: number;
    drift: number[] | null;
    effect?: number[] | null;
    farEffect?: number[] | null;
    snapshot: SavedQuantizedTensor[];
    milliseconds: number;
    trained?: number[];
    lagWindow?: TrainingWindow | null;
    farWindow?: TrainingWindow | null;
  } | null;
  readonly counters: Counters;
  readonly evaluationMs: number[];
  readonly gaveUp: boolean;
  /** Absent in states saved before evaluations were spaced out: the next boundary evaluates. */
  readonly nextEvaluationStep?: number;
}

interface Counters {
  evaluations: number;
  skippedEvaluations: number;
  /** Absent in older states. */
  spacedOutEvaluations?: number;
  failures: number;
  restarts: number;
  steps: number;
  mainThreadMs: number;
}

/**
 * Egeria's layer freezing: every `evalEvery` steps the model is compared on a fixed probe batch with an
 * int8 snapshot of itself taken `referenceLag` evaluations earlier, in a worker thread. By default a
 * unit has converged when undoing its recent learning (that unit alone back at the snapshot) barely
 * moves the model's predictions (output-effect.ts); with criterion 'drift-trend', when its own drift
 * (SP loss) has become small and flat against its peak (plasticity-trend.ts). The first active unit
 * that has converged joins the frozen prefix — which the core then runs in inference mode outside the
 * tape. A learning-rate change unfreezes.
 */
export class FreezePlugin implements StatefulPlugin<FreezeState> {
  readonly name = 'FreezePlugin';
  readonly stateKey = 'freeze';
  /** 2: snapshots and the probe as typed arrays (1 held them as base64 strings). */
  readonly stateVersion = 2;
  readonly options: FreezeOptions;
  private trainer: Trainer | null = null;
  private runner: ReferenceRunner | null = null;
  private weights: tf.Variable[] = [];
  private probe: TensorData | null = null;
  private probeLabels: TensorData | null = null;
  private ring: SnapshotRing;
  private trends: TrendState[] = [];
  private effects: EffectState[] = [];
  private series: PlasticityPoint[][] = [];
  private verdicts: Array<TrendVerdict | null> = [];
  private timeline: Array<{ step: number; epoch: number; frozenPrefix: number; reason: string }> = [];
  private pending: Pending | null = null;
  private learningRate: number | null = null;
  private pendingUnfreeze: string | null = null;
  /** Bumped on each learning-rate change: results of evaluations started before it are not trend data. */
  private generation = 0;
  private counters: Required<Counters> = { evaluations: 0, skippedEvaluations: 0, spacedOutEvaluations: 0, failures: 0, restarts: 0, steps: 0, mainThreadMs: 0 };
  /** Boundaries before this step take only a snapshot (core-hooks' measurement-spacing.ts). */
  private nextEvaluationStep = 0;
  private evaluationMs: number[] = [];
  private gaveUp = false;
  private trainedSteps: TrainedSteps | null = null;

  constructor(options: Partial<FreezeOptions> = {}) {
    this.options = resolveFreezeOptions(options);
    this.ring = new SnapshotRing(this.options.referenceLag);
  }

  apply(trainer: Trainer): void {
    this.trainer = trainer;
    // 'directed' also compares with the snapshot twice as old; the regime is known from here on.
    const lag = this.options.referenceLag;
    this.ring = new SnapshotRing(lag, this.judgesDirected ? 2 * lag : lag);
    const unitCount = trainer.units.length;
    this.trends = Array.from({ length: unitCount }, emptyTrend);
    this.effects = Array.from({ length: unitCount }, emptyEffect);
    this.series = Array.from({ length: unitCount }, () => []);
    this.verdicts = Array.from({ length: unitCount }, () => null);
    this.weights = weightList(trainer);
    this.trainedSteps = new TrainedSteps(trainer.units);
    if (this.options.probe) this.probe = probeOf(this.options.probe, this.options.probe.shape[0]!);
    if (this.options.probeLabels) this.probeLabels = probeOf(this.options.probeLabels, this.options.probeLabels.shape[0]!);

    trainer.hooks.beforeForward.tapPromise({ name: this.name, stage: HookStage.FREEZE }, (context) => this.timed(() => this.beforeForward(context)));
    trainer.hooks.afterStep.tapPromise({ name: this.name, stage: HookStage.DEFAULT }, (context) => this.timed(() => this.afterStep(context)));
    trainer.hooks.lrChange.tap(this.name, (change) => {
      this.learningRate = change.next;
      this.pendingUnfreeze = `learning rate ${change.previous} → ${change.next}`;
    });
    trainer.hooks.teardown.tapPromise(this.name, () => this.dispose());
  }

  /**
   * Units that may be frozen at most: never the last N for 'all-but-N' (the classifier's units for
   * 'all-but-classifier'), at most the number given otherwise — and in a fine-tuning never a unit that
   * started fresh (past trainer.pretrainedUnits): a new head or new layers are what the fine-tuning is for.
   */
  get maxFrozenUnits(): number {
    const units = this.trainer?.units ?? [];
    const unitCount = units.length;
    const kept = unitsKeptTraining(this.options.maxFrozenUnits, units);
    const byOption = kept !== null ? Math.max(0, unitCount - kept) : Math.min(this.options.maxFrozenUnits as number, unitCount);
    return withinPretrained(byOption, this.trainer?.pretrainedUnits ?? 0);
  }

  private async timed(body: () => Promise<void>): Promise<void> {
    const start = performance.now();
    try {
      await body();
    } finally {
      this.counters.mainThreadMs += performance.now() - start;
    }
  }

  private async beforeForward(context: StepContext): Promise<void> {
    const trainer = this.trainer!;
    this.counters.steps++;
    if (!this.probe) this.probe = probeOf(context.batch.x, this.options.probeSize);

    const learningRate = trainer.learningRate;
    const drop = this.options.unfreezeOnLrDrop;
    if (this.learningRate !== null && drop !== false && learningRate <= this.learningRate * (1 - drop)) {
      this.pendingUnfreeze ??= `learning rate fell ${this.learningRate} → ${learningRate}`;
    }
    this.learningRate = learningRate;
    if (this.pendingUnfreeze !== null) {
      this.unfreeze(context, this.pendingUnfreeze);
      this.pendingUnfreeze = null;
    }

    const pending = this.pending;
    if (!pending) return;
    if (this.options.deterministic) {
      // Exactly evalEvery steps after it started: waits for a late worker, holds back an early result.
      if (context.step < pending.startStep + this.options.evalEvery) return;
      await pending.promise;
    }
    if (!pending.settled) return;
    this.pending = null;
    await this.applyResult(context, pending);
  }

  private async applyResult(context: StepContext, pending: Pending): Promise<void> {
    if (pending.error !== null) {
      await this.failed(context.step, pending.error);
      return;
    }
    const output = pending.output!;
    const measured = this.options.criterion === 'output-effect' ? output.effect : output.drift;
    if (measured) this.evaluationMs.push(output.milliseconds); // the report's median is of evaluations, not snapshots
    if (pending.generation !== this.generation) return; // started before a learning-rate change: stale
    this.ring.push({ step: pending.startStep, tensors: output.snapshot, trained: pending.trained });
    if (!measured) return; // a snapshot only

    const points: PlasticityEvent['units'] = [];
    measured.forEach((_, offset) => {
      const index = pending.fromUnit + offset;
      if (index < context.frozenPrefix) return; // frozen since the evaluation started
      const lagEffect = output.effect?.[offset] ?? null;
      const farEffect = output.farEffect?.[offset] ?? null;
      // Judged as if the unit had trained on every step of the lag (another plugin may rest it); one
      // that did not train at all in it has nothing to judge this time.
      const effect = lagEffect === null ? null : judgedEffect(index, { effect: lagEffect, window: pending.lagWindow }, farEffect === null ? null : { effect: farEffect, window: pending.farWindow });
      if (lagEffect !== null && effect === null) return;
      const drift = output.drift?.[offset] ?? null;
      const trend = drift === null ? null : observeDrift(this.trends[index]!, drift, this.options);
      const lossEffect = output.lossEffect?.[offset] ?? null;
      // The criterion decides which test freezes; a drift measured beside the effect is reported only.
      const byEffect = this.options.criterion === 'output-effect' ? observeEffect(this.effects[index]!, effect ?? Number.NaN, this.options) : null;
      const verdict: TrendVerdict = byEffect
        ? { normalisedDrift: trend?.normalisedDrift ?? Number.NaN, level: trend?.level ?? Number.NaN, slope: trend?.slope ?? Number.NaN, streak: byEffect.streak, converged: byEffect.converged, reason: byEffect.reason }
        : trend!;
      const point: PlasticityPoint = {
        step: pending.startStep,
        epoch: context.epoch,
        drift,
        effect,
        lagEffect,
        trainedShare: lagEffect === null ? null : trainedShare(pending.lagWindow, index),
        farEffect,
        effectLevel: byEffect?.level ?? null,
        lossEffect,
        probeLoss: output.probeLoss,
        ...verdict,
      };
      this.series[index]!.push(point);
      this.verdicts[index] = verdict;
      points.push({ ...point, unit: this.trainer!.units[index]!.name, index });
    });
    this.trainer!.events.emit('plasticity', { step: pending.startStep, epoch: context.epoch, units: points });

    // The first active unit freezes when this evaluation judged it converged. Under 'output-effect' so
    // does each unit after it that this evaluation judged converged too, up to the first that is not:
    // units that settled together freeze together. 'drift-trend' freezes one at a time, as Egeria does.
    // Either way the prefix stays contiguous.
    const judgedNow = new Set(points.filter((point) => point.converged).map((point) => point.index));
    const mayFreeze = this.options.criterion === 'output-effect' ? this.maxFrozenUnits : Math.min(this.maxFrozenUnits, context.frozenPrefix + 1);
    while (context.frozenPrefix < mayFreeze && judgedNow.has(context.frozenPrefix)) {
      const candidate = context.frozenPrefix;
      context.frozenPrefix = candidate + 1;
      // Its scale is kept: after an unfreeze, lrChangeKeepsScale may judge it against what it moved before.
      this.trends[candidate] = restartTrend(this.trends[candidate]!, true);
      this.effects[candidate] = emptyEffect();
      this.timeline.push({ step: context.step, epoch: context.epoch, frozenPrefix: candidate + 1, reason: `unit ${candidate} converged` });
      this.trainer!.events.emit('freeze', { unit: this.trainer!.units[candidate]!.name, index: candidate, step: context.step, epoch: context.epoch });
    }
    this.nextEvaluationStep = pending.startStep + 1 + this.options.evalEvery * this.spacingFor(context.frozenPrefix);
  }

  /** effectMovement with 'auto' resolved by the regime: 'directed' in a fine-tuning, 'total' from scratch. */
  private get effectMovement(): 'directed' | 'total' {
    const movement = this.options.effectMovement;
    if (movement !== 'auto') return movement;
    return (this.trainer?.pretrainedUnits ?? 0) > 0 ? 'directed' : 'total';
  }

  private get judgesDirected(): boolean {
    return this.options.criterion === 'output-effect' && this.effectMovement === 'directed';
  }

  /** Boundaries until the next full evaluation, judged on the unit that may freeze next (core-hooks' measurement-spacing.ts). */
  private spacingFor(candidate: number): number {
    const effects = this.effects[candidate];
    if (this.options.criterion !== 'output-effect' || !effects || effects.values.length < this.options.patience) return 1;
    // The unit's last `patience` points are the values its level is the median of (tracking appends to both).
    const points = this.series[candidate]!.slice(-this.options.patience);
    const oldest = points[0]!;
    const newest = points.at(-1)!;
    return measurementSpacing({
      level: newest.effectLevel ?? Number.NaN,
      threshold: this.options.effectThreshold,
      oldest: { step: oldest.step, effect: oldest.effect ?? Number.NaN },
      newest: { step: newest.step, effect: newest.effect ?? Number.NaN },
      every: this.options.evalEvery,
      maxSpacing: this.options.maxEvalSpacing,
    });
  }

  private unfreeze(context: StepContext, reason: string): void {
    const frozen = context.frozenPrefix;
    const count = this.options.unfreezeUnits === 'all' ? frozen : Math.min(this.options.unfreezeUnits, frozen);
    // Drift at the new rate is not comparable with drift at the old one: every active unit's tracking
    // restarts, and so does the ring (a snapshot from before the change would straddle it).
    this.generation++;
    this.ring.clear();
    this.nextEvaluationStep = 0;
    for (let index = frozen - count; index < this.trends.length; index++) {
      this.trends[index] = restartTrend(this.trends[index]!, this.options.lrChangeKeepsScale);
      this.effects[index] = emptyEffect();
      this.verdicts[index] = null;
    }
    if (count === 0) return;
    context.frozenPrefix = frozen - count;
    this.timeline.push({ step: context.step, epoch: context.epoch, frozenPrefix: frozen - count, reason });
    for (let index = frozen - 1; index >= frozen - count; index--) {
      this.trainer!.events.emit('unfreeze', { unit: this.trainer!.units[index]!.name, index, step: context.step, epoch: context.epoch, reason });
    }
  }

  private async afterStep(context: StepContext): Promise<void> {
    this.trainedSteps!.record(context);
    const step = context.step + 1;
    if (this.gaveUp || step < this.options.warmupSteps || step % this.options.evalEvery !== 0) return;
    if (context.frozenPrefix >= this.maxFrozenUnits || !this.probe) return;
    if (this.pending) {
      // Never queue: the worker is still on the previous evaluation.
      this.counters.skippedEvaluations++;
      return;
    }
    const reference = step >= this.nextEvaluationStep ? this.ring.reference : null;
    const farReference = reference && this.judgesDirected ? this.ring.ago(2 * this.options.referenceLag) : null;
    if (this.ring.reference && !reference) this.counters.spacedOutEvaluations++;
    else this.counters.evaluations++;
    this.runner ??= this.createRunner();
    // Copies: the backend's own buffers must never be transferred away.
    const current = await Promise.all(this.weights.map(async (variable) => new Float32Array(await variable.data<'float32'>())));
    const trained = this.trainedSteps!.now;
    const windowFrom = (snapshot: Snapshot | null) => (snapshot ? trainingWindow(snapshot.step, snapshot.trained, context.step, trained) : null);
    const pending: Pending = {
      startStep: context.step,
      fromUnit: context.frozenPrefix,
      trained,
      lagWindow: windowFrom(reference),
      farWindow: windowFrom(farReference),
      generation: this.generation,
      output: null,
      error: null,
      settled: false,
      promise: Promise.resolve(),
    };
    pending.promise = this.runner
      .evaluate({ probe: this.probe, probeLabels: this.probeLabels, ...this.measurement(context.frozenPrefix), current, reference: reference ? reference.tensors : null, farReference: farReference ? farReference.tensors : null })
      .then(
        (output) => {
          pending.output = output;
        },
        (error: unknown) => {
          pending.error = error ?? new Error('unknown failure');
        },
      )
      .finally(() => {
        pending.settled = true;
      });
    this.pending = pending;
  }

  /**
   * What an evaluation measures. 'output-effect' reads only effects, of the first active unit and the
   * `lookahead` after it that may still freeze (up to maxFrozenUnits); 'drift-trend' needs every active
   * unit's drift from the start, since each is judged against its own peak.
   */
  private measurement(fromUnit: number): Pick<EvaluationInput, 'fromUnit' | 'toUnit' | 'measureEffect' | 'measureDrift'> {
    if (this.options.criterion === 'drift-trend') return { fromUnit, toUnit: this.trainer!.units.length, measureEffect: false, measureDrift: true };
    const lookahead = this.options.lookahead === 'all' ? Number.POSITIVE_INFINITY : this.options.lookahead;
    return { fromUnit, toUnit: Math.min(this.maxFrozenUnits, fromUnit + 1 + lookahead), measureEffect: true, measureDrift: false };
  }

  private async failed(step: number, error: unknown): Promise<void> {
    this.counters.failures++;
    const gaveUp = this.counters.restarts >= this.options.maxRestarts;
    if (gaveUp) this.gaveUp = true;
    else this.counters.restarts++;
    await this.runner?.restart();
    this.trainer!.events.emit('freezeError', {
      step,
      error: error instanceof Error ? error.message : String(error),
      restarts: this.counters.restarts,
      gaveUp,
    });
  }

  private createRunner(): ReferenceRunner {
    const trainer = this.trainer!;
    const model = trainer.model;
    if (this.placement(trainer) === 'main-thread') return new MainThreadReference(trainer.units, this.weights);
    if (isUnitModel(model)) throw new Error("plugin-freeze: reference 'worker' needs a LayersModel (a { units } model has no JSON architecture)");
    return new WorkerReference({
      topology: (model as tfl.LayersModel).toJSON(null, false) as object,
      unitCount: trainer.units.length,
      backend: choiceForBackend(tf.getBackend()),
      workerSetup: this.options.workerSetup,
      timeoutMs: this.options.workerTimeoutMs,
    });
  }

  private placement(trainer: Trainer): 'worker' | 'main-thread' {
    if (this.options.reference !== 'auto') return this.options.reference;
    return isUnitModel(trainer.model) ? 'main-thread' : 'worker';
  }

  /** Waits for an evaluation in flight (without applying it) and stops the worker. */
  async dispose(): Promise<void> {
    await this.pending?.promise;
    await this.runner?.dispose();
    this.runner = null;
  }

  /** Per-unit plasticity series, the frozen-prefix timeline and the costs, for plots and "why not". */
  /** How it speeds training, for reports. */
  describe(): PluginDescription {
    return { speedup: 'skips-work', communicates: false };
  }

  report(): FreezeReport {
    const trainer = this.trainer;
    const frozenPrefix = trainer?.frozenPrefix ?? 0;
    const pretrainedUnits = trainer?.pretrainedUnits ?? 0;
    return {
      placement: trainer ? this.placement(trainer) : 'worker',
      regime: { name: pretrainedUnits > 0 ? 'fine-tuning' : 'from-scratch', pretrainedUnits, maxFrozenUnits: this.maxFrozenUnits, effectMovement: this.effectMovement },
      units: (trainer?.units ?? []).map((unit, index) => ({
        index,
        name: unit.name,
        series: [...this.series[index]!],
        lastVerdict: this.verdicts[index] ?? null,
        frozen: index < frozenPrefix,
      })),
      timeline: [...this.timeline],
      evaluations: this.counters.evaluations,
      skippedEvaluations: this.counters.skippedEvaluations,
      spacedOutEvaluations: this.counters.spacedOutEvaluations,
      nextEvaluationStep: this.nextEvaluationStep,
      failures: this.counters.failures,
      restarts: this.counters.restarts,
      medianEvaluationMs: median(this.evaluationMs),
      mainThreadMs: this.counters.mainThreadMs,
      mainThreadMsPerStep: this.counters.steps ? this.counters.mainThreadMs / this.counters.steps : 0,
      steps: this.counters.steps,
      ringBytes: this.ring.bytes,
    };
  }

  /** Probe, snapshot ring, trends, series and an evaluation in flight (awaited): an exact resume. */
  async exportState(): Promise<FreezeState> {
    const pending = this.pending;
    if (pending) await pending.promise;
    return {
      probe: this.probe ? { data: this.probe.data.slice(), shape: [...this.probe.shape] } : null,
      ring: this.ring.contents.map((snapshot) => ({ step: snapshot.step, tensors: snapshot.tensors.map(encodeQuantized), ...(snapshot.trained ? { trained: [...snapshot.trained] } : {}) })),
      trainedSteps: this.trainedSteps?.now ?? [],
      trends: this.trends.map((trend) => ({ ...trend, values: [...trend.values] })),
      effects: this.effects.map((effect) => ({ ...effect })),
      series: this.series.map((points) => [...points]),
      verdicts: [...this.verdicts],
      timeline: [...this.timeline],
      learningRate: this.learningRate,
      pendingUnfreeze: this.pendingUnfreeze,
      pending:
        pending?.output && pending.generation === this.generation
          ? {
              startStep: pending.startStep,
              fromUnit: pending.fromUnit,
              drift: pending.output.drift,
              effect: pending.output.effect,
              farEffect: pending.output.farEffect,
              snapshot: pending.output.snapshot.map(encodeQuantized),
              milliseconds: pending.output.milliseconds,
              trained: [...pending.trained],
              lagWindow: pending.lagWindow,
              farWindow: pending.farWindow,
            }
          : null,
      counters: { ...this.counters },
      evaluationMs: [...this.evaluationMs],
      gaveUp: this.gaveUp,
      nextEvaluationStep: this.nextEvaluationStep,
    };
  }

  importState(saved: FreezeState): void {
    if (saved.trends.length !== this.trends.length) {
      throw new Error(`plugin-freeze: the state has ${saved.trends.length} units, this trainer ${this.trends.length}`);
    }
    this.probe = saved.probe ? { data: Float32Array.from(saved.probe.data), shape: [...saved.probe.shape] } : this.probe;
    this.ring.replace(saved.ring.map((snapshot) => ({ step: snapshot.step, tensors: snapshot.tensors.map(decodeQuantized), ...(snapshot.trained ? { trained: [...snapshot.trained] } : {}) })));
    if (saved.trainedSteps && this.trainedSteps) this.trainedSteps.now = saved.trainedSteps;
    this.trends = saved.trends.map((trend) => ({ ...trend, values: [...trend.values] }));
    this.effects = saved.effects ? saved.effects.map((effect) => ({ ...effect })) : saved.trends.map(emptyEffect);
    this.series = saved.series.map((points) => [...points]);
    this.verdicts = [...saved.verdicts];
    this.timeline = [...saved.timeline];
    this.learningRate = saved.learningRate;
    this.pendingUnfreeze = saved.pendingUnfreeze;
    this.counters = { ...saved.counters, spacedOutEvaluations: saved.counters.spacedOutEvaluations ?? 0 };
    this.nextEvaluationStep = saved.nextEvaluationStep ?? 0;
    this.evaluationMs = [...saved.evaluationMs];
    this.gaveUp = saved.gaveUp;
    this.pending = saved.pending
      ? {
          startStep: saved.pending.startStep,
          fromUnit: saved.pending.fromUnit,
          trained: saved.pending.trained ? [...saved.pending.trained] : (this.trainedSteps?.now ?? []),
          lagWindow: saved.pending.lagWindow ?? null,
          farWindow: saved.pending.farWindow ?? null,
          generation: this.generation,
          promise: Promise.resolve(),
          output: { drift: saved.pending.drift, effect: saved.pending.effect ?? null, farEffect: saved.pending.farEffect ?? null, lossEffect: null, probeLoss: null, snapshot: saved.pending.snapshot.map(decodeQuantized), milliseconds: saved.pending.milliseconds },
          error: null,
          settled: true,
        }
      : null;
  }
}

/**
 * Every weight the reference needs, in a fixed order: a LayersModel's `weights` (what a model rebuilt
 * from its JSON lists in the same order), or a { units } model's variables and state variables.
 */
function weightList(trainer: Trainer): tf.Variable[] {
  const model = trainer.model;
  if (!isUnitModel(model)) return (model as tfl.LayersModel).weights.map((weight) => weight.read() as tf.Variable);
  return unitWeights(trainer.units).map((weight) => weight.variable);
}

/** The first `size` samples of `x`, as data that outlives the batch. */
function probeOf(x: tf.Tensor, size: number): TensorData {
  const rows = Math.min(size, x.shape[0]!);
  const slice = tf.tidy(() => tf.cast(tf.slice(x, [0], [rows]), 'float32'));
  const data = new Float32Array(slice.dataSync());
  slice.dispose();
  return { data, shape: [rows, ...x.shape.slice(1)] };
}

/** `trainer.use(freezePlugin({ evalEvery: 20 }))`. */
export function freezePlugin(options?: Partial<FreezeOptions>): FreezePlugin {
  return new FreezePlugin(options);
}
