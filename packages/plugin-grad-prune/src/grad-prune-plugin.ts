import type * as tf from '@tensorflow/tfjs-core';
import { HookStage, measurementSpacing, median, SeededRandom, withinPretrained, type EffectMovement, type StepContext, type Trainer, type PluginDescription, type StatefulPlugin, type Unit } from '@trainhooks/core-hooks/internal';
import { ConvergenceMonitor, newGroupStatistic, type ConvergenceScore, type GroupStatistic, type ParameterGroup } from './convergence-monitor.js';
import { groupStatus } from './group-status.js';
import { resolveGradPruneOptions, type GradPruneOptions } from './options.js';
import { OutputEffectMonitor, type EffectStatistic, type SavedEffectRing } from './output-effect-monitor.js';
import { parameterGroups } from './parameter-groups.js';
import { pruneProbability } from './prune-probability.js';
import type { SavedSnapshot } from './saved-tensors.js';

export interface PruneEvent {
  readonly step: number;
  /** Variables that get no gradient this step. */
  readonly skipped: string[];
  /** Groups pruned this step. */
  readonly groups: string[];
}

declare module '@trainhooks/core-hooks' {
  interface TrainerEventMap {
    prune: PruneEvent;
  }
}

/** One point of a group's series, for plots. */
export interface GroupSeriesPoint {
  readonly step: number;
  /** 'peak', 'saturation': ‖Δw‖ / ‖w‖ per update and unit of learning rate, and its EMA. */
  readonly rate?: number;
  readonly smoothedRate?: number;
  readonly convergence: number;
  readonly probability: number;
  /** `score: 'saturation'` only: the window's growth exponent. */
  readonly growth?: number;
  /** 'output-effect': the judged effect at full rate, the effects measured over one and two lags, and the median judged. */
  readonly effect?: number;
  readonly lagEffect?: number;
  readonly farEffect?: number | null;
  readonly level?: number;
}

export interface GradPruneReport {
  /** How groups were judged: the regime ('fine-tuning' when the trainer reports pretrained units), the score and (for 'output-effect') the movement. */
  readonly regime: { readonly name: 'fine-tuning' | 'from-scratch'; readonly score: ConvergenceScore | 'output-effect'; readonly effectMovement: EffectMovement | null };
  /**
   * What judging cost: monitor points and the time they took on the training thread (a cost every step
   * pays for); 'output-effect': group measurements made, those spaced out (`maxMeasureSpacing`), and the
   * points at which any group was measured (each ran a forward of the model on the probe).
   */
  readonly monitor: { readonly points: number; readonly milliseconds: number; readonly measurements: number; readonly spacedOut: number; readonly measuredPoints: number };
  readonly groups: Record<string, {
    readonly unit: number;
    readonly series: GroupSeriesPoint[];
    readonly skippedSteps: number;
    readonly trainedSteps: number;
    /** Weight-gradient FLOPs not run: 2 · batch · parameters per skipped step (exact for dense kernels, a lower bound for convolutions). */
    readonly flopsSavedLowerBound: number;
    /** Why it is pruned now (and with what probability) or keeps training, from its last judged values. */
    readonly status: string;
    /**
     * 'output-effect': the group on whose schedule it was last measured — its pruning alone saves less
     * than measuring it costs — or null (its own schedule).
     */
    readonly measuredWith: string | null;
  }>;
}

/**
 * Everything needed to resume exactly, per group in the plugin's group order (not by name: tfjs names
 * layers from process-wide counters, so a rebuilt model has other names).
 */
export interface GradPruneState {
  readonly random: number;
  readonly groups: Array<{
    readonly statistic: GroupStatistic | null;
    readonly snapshot: SavedSnapshot | null;
    readonly counts: { skipped: number; trained: number; flops: number };
    readonly series: GroupSeriesPoint[];
    /** 'output-effect': the group's statistic and its snapshot ring. */
    readonly effect?: { readonly statistic: EffectStatistic | null; readonly ring: SavedEffectRing | null };
  }>;
  /** 'output-effect': the probe. */
  readonly probe?: SavedSnapshot | null;
}

/**
 * Convergence-aware gradient pruning (DAC'20): monitors how fast each parameter group still changes
 * and, each step, skips a converged group's gradient with a probability that grows with its
 * convergence — through `context.skip`, so the core's tape never runs its weight-gradient kernels.
 */
export class GradPrunePlugin implements StatefulPlugin<GradPruneState> {
  readonly name = 'GradPrunePlugin';
  readonly stateKey = 'grad-prune';
  readonly stateVersion = 1;
  readonly options: GradPruneOptions;
  private readonly monitor: ConvergenceMonitor;
  /** 'output-effect' only (known once the plugin is applied and the regime with it). */
  private effects: OutputEffectMonitor | null = null;
  private regime: GradPruneReport['regime'] | null = null;
  private random: SeededRandom;
  private groups: ParameterGroup[] = [];
  private readonly series = new Map<string, GroupSeriesPoint[]>();
  private readonly counts = new Map<string, { skipped: number; trained: number; flops: number }>();
  /** The trainer applied to (its frozen prefix tells the report which groups are frozen). */
  private trainer: Trainer | null = null;
  private readonly monitorCost = { points: 0, milliseconds: 0, measurements: 0, spacedOut: 0, measuredPoints: 0 };
  /** 'output-effect': groups measured on another group's schedule at the last point (`dueGroups`), and whose. */
  private readonly leaders = new Map<string, string>();

  constructor(options: Partial<GradPruneOptions> = {}) {
    this.options = resolveGradPruneOptions(options);
    const parameterScore = this.options.score === 'saturation' ? 'saturation' : 'peak';
    this.monitor = new ConvergenceMonitor(this.options.smoothing, parameterScore, this.options.saturationLag);
    this.random = new SeededRandom(this.options.seed);
  }

  apply(trainer: Trainer): void {
    this.trainer = trainer;
    // Never the head (unless pruneHead), and in a fine-tuning never a unit that started fresh: those are
    // what the fine-tuning trains, however converged their gradients look.
    const byHead = this.options.pruneHead ? trainer.units.length : trainer.units.length - 1;
    this.groups = parameterGroups(trainer.units, this.options.groupBy, withinPretrained(byHead, trainer.pretrainedUnits));
    this.regime = this.regimeOf(trainer.pretrainedUnits > 0);
    if (this.regime.score === 'output-effect') {
      const { referenceLag: lag, patience, effectThreshold } = this.options;
      const effects = new OutputEffectMonitor({ lag, patience, effectThreshold, movement: this.regime.effectMovement!, certain: this.pruningEdges });
      this.effects = effects;
      // The probe comes from the whole batch, before a data-parallel rank takes its shard: every rank
      // judges on the same samples, so every rank prunes alike.
      trainer.hooks.selectBatch.tap({ name: this.name, stage: HookStage.PRUNE }, (batch) => {
        if (!effects.hasProbe) effects.setProbe(batch.x, this.options.probeSize);
        return batch;
      });
      const prefixChanged = () => effects.prefixChanged();
      trainer.events.on('frozenPrefix', prefixChanged);
      trainer.hooks.teardown.tap(this.name, () => {
        trainer.events.off('frozenPrefix', prefixChanged);
        effects.dispose();
      });
    }
    trainer.hooks.beforeForward.tap({ name: this.name, stage: HookStage.PRUNE }, (context) => this.decide(trainer, context));
    trainer.hooks.afterStep.tapPromise({ name: this.name, stage: HookStage.OBSERVE }, (context) => this.afterStep(trainer, context));
    trainer.hooks.teardown.tap(this.name, () => this.monitor.dispose());
  }

  /** 'output-effect': the effects at which convergence 1 − m / (2·threshold) reaches fullAt (highest probability) and startAt (zero). */
  private get pruningEdges(): readonly [number, number] {
    const { effectThreshold, startAt, fullAt } = this.options;
    return [2 * effectThreshold * (1 - fullAt), 2 * effectThreshold * (1 - startAt)];
  }

  /**
   * 'auto' resolved by the regime: output effect in both (from scratch the paper's peak-relative rate
   * reads "past the first transient" as converged); the directed part of the movement in a fine-tuning,
   * all of it from scratch, as plugin-freeze.
   */
  private regimeOf(fineTuning: boolean): GradPruneReport['regime'] {
    const score = this.options.score === 'auto' ? 'output-effect' : this.options.score;
    const movement = this.options.effectMovement === 'auto' ? (fineTuning ? 'directed' : 'total') : this.options.effectMovement;
    return { name: fineTuning ? 'fine-tuning' : 'from-scratch', score, effectMovement: score === 'output-effect' ? movement : null };
  }

  /** The skip probability each group has now. */
  probability(group: string): number {
    const statistic = this.effects ? this.effects.statistics.get(group) : this.monitor.statistics.get(group);
    if (!statistic || statistic.observations < this.options.minObservations) return 0;
    return pruneProbability(statistic.convergence, this.options.startAt, this.options.fullAt, this.options.pMax);
  }

  private decide(trainer: Trainer, context: StepContext): void {
    const pruned: ParameterGroup[] = [];
    // Draws are made whatever the probabilities (one per step, or one per trainable group and step): the
    // pattern depends only on the seed and the scores, so ranks that share both prune alike.
    const shared = this.options.draws === 'shared' ? this.random.next() : 0;
    for (const group of this.groups) {
      if (group.unit < context.frozenPrefix) continue;
      const draw = this.options.draws === 'shared' ? shared : this.random.next();
      if (draw < this.probability(group.name)) pruned.push(group);
    }
    if (pruned.length === 0) return;
    const skipped = pruned.flatMap((group) => group.variables.map((variable) => variable.name));
    for (const name of skipped) context.skip.add(name);
    trainer.events.emit('prune', { step: context.step, skipped, groups: pruned.map((group) => group.name) });
  }

  private async afterStep(trainer: Trainer, context: StepContext): Promise<void> {
    const { learningRate } = trainer;
    for (const group of this.groups) {
      const counts = this.countsOf(group.name);
      if (group.unit < context.frozenPrefix) {
        // Frozen units are not trained: nothing to measure, and no snapshot to keep.
        this.monitor.release(group.name);
        this.effects?.release(group.name);
        continue;
      }
      if (group.variables.some((variable) => context.gradients[variable.name] !== undefined)) {
        (this.effects ?? this.monitor).countUpdate(group.name);
        counts.trained++;
      } else if (group.variables.every((variable) => context.skip.has(variable.name))) {
        counts.skipped++;
        counts.flops += 2 * context.batchSize * group.variables.reduce((sum, v) => sum + v.size, 0);
      }
    }
    if ((context.step + 1) % this.options.monitorEvery !== 0 || !(learningRate > 0)) return;
    const began = performance.now();
    const measurementsBefore = this.monitorCost.measurements;
    const trained = this.groups.filter((group) => group.unit >= context.frozenPrefix);
    // Per unit of learning rate: a schedule that lowers it must not make every group look converged.
    // (An output effect is absolute — what the learning does to the predictions — and needs no scale.)
    const observations: Map<string, Omit<GroupSeriesPoint, 'probability'>> = this.effects
      ? this.effects.observe(context.step, trained, trainer.units, this.dueGroups(trained, context.step, trainer.units, context.batchSize), context.frozenPrefix)
      : await this.monitor.observe(context.step, trained, 1 / learningRate);
    this.monitorCost.points++;
    // A group measured at this point: the probe's forward ran.
    if (this.monitorCost.measurements > measurementsBefore) this.monitorCost.measuredPoints++;
    this.monitorCost.milliseconds += performance.now() - began;
    for (const [group, observation] of observations) {
      const points = this.series.get(group) ?? [];
      points.push({ ...observation, probability: this.probability(group) });
      this.series.set(group, points);
    }
  }

  /**
   * 'output-effect': which of the trained groups (in unit order) are measured at this point. A group
   * whose pruning alone saves less than measuring it costs (`paysAlone`: a BatchNorm's scale and
   * offset, a stem convolution over one input channel) is measured when the next group whose pruning
   * does pay is, on that group's schedule — shared draws prune it together with that group, and the
   * two together spare the input gradients between them —; with none after it, the one before; with
   * none, on its own. So it is never measured on its own near its edge, where each measurement is a
   * forward of the model from its unit (a resnet's stem from scratch: a forward of the whole model at
   * nearly every point, for what pruning it could never save).
   */
  private dueGroups(trained: readonly ParameterGroup[], step: number, units: readonly Unit[], batchSize: number): (group: ParameterGroup) => boolean {
    const probeRows = this.effects?.probeRows ?? 0;
    const pays = trained.map((group) => this.paysAlone(group, units, batchSize, probeRows));
    const leaderOf = (index: number): ParameterGroup | undefined => {
      const after = trained.findIndex((_, j) => j > index && pays[j]);
      if (after >= 0) return trained[after];
      for (let j = index - 1; j >= 0; j--) if (pays[j]) return trained[j];
      return undefined;
    };
    this.leaders.clear();
    trained.forEach((group, index) => {
      const leader = pays[index] ? undefined : leaderOf(index);
      if (leader) this.leaders.set(group.name, leader.name);
    });
    // Decided when asked (the monitor asks only for groups whose snapshots reach back far enough), once.
    const decided = new Map<string, boolean>();
    const due = (group: ParameterGroup): boolean => {
      let verdict = decided.get(group.name);
      if (verdict === undefined) {
        const leader = this.leaders.get(group.name);
        verdict = leader ? this.countMeasurement(due(trained.find((other) => other.name === leader)!)) : this.measureDue(group.name, step);
        decided.set(group.name, verdict);
      }
      return verdict;
    };
    return due;
  }

  /**
   * Whether pruning a group could repay measuring it: its weight-gradient FLOPs (as many as its share of
   * its unit's forward) on the share pMax of the steps it may be skipped, against a forward of the probe
   * from its unit to the output at every monitor point. A group of vectors only saves nothing worth
   * skipping; without FLOPs (hand-declared units) any other group is taken to pay.
   */
  private paysAlone(group: ParameterGroup, units: readonly Unit[], batchSize: number, probeRows: number): boolean {
    const kernelSize = (variables: readonly tf.Variable[]) => variables.filter((variable) => variable.rank >= 2).reduce((sum, variable) => sum + variable.size, 0);
    const own = kernelSize(group.variables);
    if (own === 0) return false;
    const downstream = units.slice(group.unit).map((unit) => unit.forwardFlops);
    const unitFlops = downstream[0];
    if (unitFlops === undefined || downstream.some((flops) => flops === undefined)) return true;
    const saved = this.options.pMax * batchSize * unitFlops * (own / kernelSize(units[group.unit]!.variables));
    const cost = (probeRows * downstream.reduce((sum: number, flops) => sum + flops!, 0)) / this.options.monitorEvery;
    return saved >= cost;
  }

  /**
   * 'output-effect': whether a group is measured at this point on its own schedule. Far above where
   * pruning starts and not falling fast — from scratch most groups sit there — or far under where its
   * probability is highest and not rising fast — a settled group in a fine-tuning —, it is measured
   * only every few points (core-hooks' measurement-spacing.ts): each measurement is a forward on the
   * training thread.
   * Derived from the group's series alone, so a resumed run spaces its measurements as the original did.
   */
  private measureDue(group: string, step: number): boolean {
    const points = (this.series.get(group) ?? []).slice(-this.options.patience);
    const oldest = points[0];
    const newest = points.at(-1);
    if (points.length < this.options.patience || !oldest || !newest) return this.countMeasurement(true);
    const [fullEdge, startEdge] = this.pruningEdges;
    const spacingFrom = (side: 'above' | 'below') =>
      measurementSpacing({
        level: newest.level ?? Number.NaN,
        threshold: side === 'above' ? startEdge : fullEdge,
        oldest: { step: oldest.step, effect: oldest.effect ?? Number.NaN },
        newest: { step: newest.step, effect: newest.effect ?? Number.NaN },
        every: this.options.monitorEvery,
        maxSpacing: this.options.maxMeasureSpacing,
        side,
      });
    // Far above where pruning starts (still learning) or far under where it is at its highest (pruned
    // on most steps, and not waking up): either way the next few measurements cannot change the
    // probability. At most one of the two is over 1.
    const spacing = Math.max(spacingFrom('above'), spacingFrom('below'));
    // On a grid all groups share: the spacing rounded down to a power of two, due at the points whose
    // number is a multiple of it (never more than `spacing` points after the last measurement). Spaced
    // groups are then measured at the same points, and a point where none is due runs no forward at all.
    const grid = 2 ** Math.floor(Math.log2(spacing));
    const point = Math.round((step + 1) / this.options.monitorEvery);
    return this.countMeasurement(point % grid === 0);
  }

  private countMeasurement(due: boolean): boolean {
    if (due) this.monitorCost.measurements++;
    else this.monitorCost.spacedOut++;
    return due;
  }

  private countsOf(group: string) {
    let counts = this.counts.get(group);
    if (!counts) {
      counts = { skipped: 0, trained: 0, flops: 0 };
      this.counts.set(group, counts);
    }
    return counts;
  }

  /** How it speeds training, for reports. */
  describe(): PluginDescription {
    return { speedup: 'skips-work', communicates: false };
  }

  /** Per-group score and probability series, skipped-step counts and FLOPs not run, for plots; the regime. */
  report(): GradPruneReport {
    return {
      regime: this.regime ?? this.regimeOf(false),
      monitor: { ...this.monitorCost },
      groups: Object.fromEntries(
        this.groups.map((group) => {
          const counts = this.countsOf(group.name);
          return [
            group.name,
            {
              unit: group.unit,
              series: [...(this.series.get(group.name) ?? [])],
              skippedSteps: counts.skipped,
              trainedSteps: counts.trained,
              flopsSavedLowerBound: counts.flops,
              status: this.statusOf(group),
              measuredWith: this.leaders.get(group.name) ?? null,
            },
          ];
        }),
      ),
    };
  }

  private statusOf(group: ParameterGroup): string {
    const probability = this.probability(group.name);
    const frozen = group.unit < (this.trainer?.frozenPrefix ?? 0);
    const needed = this.options.minObservations;
    if (this.effects) {
      const statistic = this.effects.statistics.get(group.name);
      const startsAt = this.pruningEdges[1];
      const level = statistic && statistic.values.length > 0 ? median(statistic.values) : Number.NaN;
      return groupStatus({ frozen, observations: statistic?.observations ?? 0, needed, probability, effect: { level, startsAt }, convergence: null });
    }
    const statistic = this.monitor.statistics.get(group.name);
    return groupStatus({ frozen, observations: statistic?.observations ?? 0, needed, probability, effect: null, convergence: { value: statistic?.convergence ?? 0, startsAt: this.options.startAt } });
  }

  async exportState(): Promise<GradPruneState> {
    const snapshots = await this.monitor.exportSnapshots();
    const rings = this.effects ? await this.effects.exportRings() : {};
    return {
      random: this.random.currentState,
      ...(this.effects ? { probe: await this.effects.exportProbe() } : {}),
      groups: this.groups.map((group) => ({
        statistic: this.monitor.statistics.has(group.name) ? { ...this.monitor.statistics.get(group.name)! } : null,
        snapshot: snapshots[group.name] ?? null,
        counts: { ...this.countsOf(group.name) },
        series: [...(this.series.get(group.name) ?? [])],
        ...(this.effects ? { effect: { statistic: this.effectStatisticOf(group.name), ring: rings[group.name] ?? null } } : {}),
      })),
    };
  }

  importState(saved: GradPruneState): void {
    if (!Array.isArray(saved?.groups) || saved.groups.length !== this.groups.length) {
      throw new Error(`plugin-grad-prune: the state has ${saved?.groups?.length} groups, this trainer ${this.groups.length}`);
    }
    this.checkSameScore(saved);
    this.random = new SeededRandom(saved.random);
    this.monitor.statistics.clear();
    this.counts.clear();
    this.series.clear();
    const snapshots: Record<string, SavedSnapshot> = {};
    saved.groups.forEach((entry, index) => {
      const name = this.groups[index]!.name;
      if (entry.statistic) this.monitor.statistics.set(name, { ...newGroupStatistic(), ...entry.statistic });
      if (entry.snapshot) snapshots[name] = entry.snapshot;
      this.counts.set(name, { ...entry.counts });
      this.series.set(name, [...entry.series]);
    });
    this.monitor.importSnapshots(snapshots);
    if (this.effects) this.importEffects(saved);
  }

  private effectStatisticOf(group: string): EffectStatistic | null {
    const statistic = this.effects?.statistics.get(group);
    return statistic ? { ...statistic, values: [...statistic.values] } : null;
  }

  /** A state judged one way cannot continue another: the resumed run would prune another pattern. */
  private checkSameScore(saved: GradPruneState): void {
    const judgedByEffect = saved.probe !== undefined && saved.groups.every((entry) => entry.effect !== undefined);
    if (this.effects && !judgedByEffect) {
      throw new Error('plugin-grad-prune: this trainer judges by output effect, and the state holds no output-effect monitor (saved with another score or regime)');
    }
    if (!this.effects && saved.probe !== undefined) {
      throw new Error(`plugin-grad-prune: the state was judged by output effect, and this trainer judges by '${this.regime?.score ?? this.options.score}' (another score or regime)`);
    }
  }

  private importEffects(saved: GradPruneState): void {
    const effects = this.effects!;
    effects.statistics.clear();
    const rings: Record<string, SavedEffectRing> = {};
    saved.groups.forEach((entry, index) => {
      const name = this.groups[index]!.name;
      if (entry.effect!.statistic) effects.statistics.set(name, { ...entry.effect!.statistic, values: [...entry.effect!.statistic.values] });
      if (entry.effect!.ring) rings[name] = entry.effect!.ring;
    });
    effects.importRings(rings);
    effects.importProbe(saved.probe ?? null);
  }

  /** Groups that hold weight snapshots now (one each, or with 'output-effect' a ring of up to 2·referenceLag). */
  get monitoredGroups(): string[] {
    return this.effects ? this.effects.snapshotGroups : this.monitor.snapshotGroups;
  }
}

/** `trainer.use(gradPrunePlugin({ seed: 1 }))`. */
export function gradPrunePlugin(options?: Partial<GradPruneOptions>): GradPrunePlugin {
  return new GradPrunePlugin(options);
}
