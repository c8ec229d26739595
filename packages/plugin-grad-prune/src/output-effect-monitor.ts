import * as tf from '@tensorflow/tfjs-core';
import { fullRateEffect, median, outputKind, predictionDistance, runUnits, type EffectMovement, type OutputKind, type Unit } from '@trainhooks/core-hooks/internal';
import type { ParameterGroup } from './convergence-monitor.js';
import { loadTensors, saveTensors, type SavedSnapshot } from './saved-tensors.js';

/** What the monitor keeps per group (plain numbers: exportable). */
export interface EffectStatistic {
  /** Updates the group has received while monitored (pruned steps do not count). */
  updates: number;
  /** Its last `patience` judged effects. */
  values: number[];
  /** Judged effects so far. */
  observations: number;
  /** 1 − level / (2 · effectThreshold), clamped to [0, 1]: ½ at the threshold. */
  convergence: number;
}

/** One group's measurement at one monitor point. */
export interface EffectObservation {
  readonly step: number;
  /** At full rate (core-hooks' full-rate-effect.ts): what is judged. */
  readonly effect: number;
  /** Measured: the group put back referenceLag monitor points, and 2·referenceLag (null: not measured). */
  readonly lagEffect: number;
  readonly farEffect: number | null;
  /** Median of the last `patience` judged effects. */
  readonly level: number;
  readonly convergence: number;
}

/** A group's weights at one monitor point, and the updates it had received by then. */
interface GroupSnapshot {
  readonly step: number;
  readonly updates: number;
  readonly values: tf.Tensor[];
}

/** Saved form of a group's snapshot ring. */
export interface SavedEffectRing {
  readonly steps: number[];
  readonly updates: number[];
  readonly snapshots: SavedSnapshot[];
}

export interface EffectSettings {
  /** Monitor points between a snapshot and the measurement that undoes it. */
  readonly lag: number;
  readonly patience: number;
  readonly effectThreshold: number;
  readonly movement: EffectMovement;
  /**
   * Effects at or below `certain[0]` give the highest probability, at or above `certain[1]` zero: a
   * group whose effect over one lag already settles which side it is on is not measured over two
   * (the forward that costs most). Default [0, ∞]: always measured.
   */
  readonly certain?: readonly [number, number];
}

/**
 * Judges groups by what their recent learning does to the model's predictions — plugin-freeze's
 * output-effect principle, on the training thread: at each monitor point, on a fixed probe, a group's
 * weights are put back to where they were `lag` monitor points ago (and 2·lag), every other weight as
 * it is, and the predicted class distributions compared with the current ones (mean total variation,
 * core-hooks' predictionDistance). A group whose recent learning no longer moves the predictions may
 * be skipped; pruning it does not make it look settled, because its effect is scaled to what it would
 * be had it trained every step (core-hooks' full-rate-effect.ts). Costs one forward of the model past its
 * frozen prefix and, per group, one or two forwards of the model from that group's unit, on the probe,
 * per monitor point.
 */
export class OutputEffectMonitor {
  private probe: tf.Tensor | null = null;
  private kind: OutputKind | null = null;
  /**
   * The probe's activation where the frozen prefix ends. Frozen units do not change, so it is computed
   * once per prefix instead of at every measurement (once plugin-freeze has frozen the front, the
   * measurements run only the units after it); forgotten whenever the prefix changes.
   */
  private atBoundary: { readonly depth: number; readonly activation: tf.Tensor } | null = null;
  private readonly rings = new Map<string, GroupSnapshot[]>();
  readonly statistics = new Map<string, EffectStatistic>();

  constructor(private readonly settings: EffectSettings) {}

  get hasProbe(): boolean {
    return this.probe !== null;
  }

  /** Samples in the probe (0 before it is taken). */
  get probeRows(): number {
    return this.probe?.shape[0] ?? 0;
  }

  /** The first `size` samples of `x` become the probe (once). */
  setProbe(x: tf.Tensor, size: number): void {
    if (this.probe) return;
    const rows = Math.min(size, x.shape[0]!);
    this.probe = tf.keep(tf.tidy(() => tf.cast(tf.slice(x, [0], [rows]), 'float32')));
  }

  statistic(group: string): EffectStatistic {
    let statistic = this.statistics.get(group);
    if (!statistic) {
      statistic = { updates: 0, values: [], observations: 0, convergence: 0 };
      this.statistics.set(group, statistic);
    }
    return statistic;
  }

  countUpdate(group: string): void {
    this.statistic(group).updates++;
  }

  /**
   * Measures the groups that are `due` and whose ring reaches `lag` back, then snapshots every group.
   * Units [0, frozenPrefix) are frozen (unchanged since the prefix last changed: `prefixChanged`).
   */
  observe(
    step: number,
    groups: readonly ParameterGroup[],
    units: readonly Unit[],
    due: (group: ParameterGroup) => boolean = () => true,
    frozenPrefix = 0,
  ): Map<string, EffectObservation> {
    const { lag } = this.settings;
    const observations = new Map<string, EffectObservation>();
    const measured = this.probe ? groups.filter((group) => (this.rings.get(group.name)?.length ?? 0) >= lag && due(group)) : [];
    if (measured.length > 0) {
      const depth = Math.min(frozenPrefix, ...measured.map((group) => group.unit));
      const effects = this.measure(step, measured, units, depth);
      measured.forEach((group, index) => {
        const observation = this.judge(step, group.name, effects[index]!);
        if (observation) observations.set(group.name, observation);
      });
    }
    for (const group of groups) this.snapshot(step, group);
    return observations;
  }

  /**
   * Per group, its effect over one lag and — when the ring reaches and the first does not already
   * decide — over two. Undecided: at full rate the judged effect lies between the lag's effect taken
   * as drift (U = e₁·steps/n₁) and half of it taken as jitter (½·e₁·√(steps/n₁)); when U is at most
   * certain[0], or that lower bound at least certain[1], the probability is known whatever the second
   * lag says, and U stands for the judged effect (a median of values on one side of an edge stays there).
   */
  private measure(step: number, groups: readonly ParameterGroup[], units: readonly Unit[], frozenPrefix: number): Array<{ lag: number; far: number | null }> {
    const { lag } = this.settings;
    const needed = new Set(groups.map((group) => group.unit));
    const inputs = new Map<number, tf.Tensor>();
    const made: tf.Tensor[] = [];
    let activation = this.boundaryActivation(units, frozenPrefix);
    units.forEach((unit, index) => {
      if (index < frozenPrefix) return;
      if (needed.has(index)) inputs.set(index, activation);
      const input = activation;
      activation = tf.tidy(() => unit.apply(input, { training: false }));
      made.push(activation);
    });
    const now = activation;
    this.kind ??= outputKind(now);
    const kind = this.kind;
    try {
      return groups.map((group) => {
        const ring = this.rings.get(group.name)!;
        const current = group.variables.map((variable) => tf.keep(variable.clone()));
        const undone = (snapshot: GroupSnapshot) => {
          group.variables.forEach((variable, index) => variable.assign(snapshot.values[index]!));
          const output = tf.tidy(() => runUnits(units, group.unit, units.length, inputs.get(group.unit)!, { training: false }));
          const distance = predictionDistance(now, output, kind);
          output.dispose();
          return distance;
        };
        try {
          const lagStart = ring[ring.length - lag]!;
          const lagEffect = undone(lagStart);
          const reaches = this.settings.movement === 'directed' && ring.length >= 2 * lag;
          const far = reaches && this.undecided(lagEffect, this.statistic(group.name).updates - lagStart.updates, step - lagStart.step) ? undone(ring[ring.length - 2 * lag]!) : null;
          return { lag: lagEffect, far };
        } finally {
          // The variables get their values back bit for bit (assign shares the copy's data).
          group.variables.forEach((variable, index) => variable.assign(current[index]!));
          tf.dispose(current);
        }
      });
    } finally {
      tf.dispose(made);
    }
  }

  /** The probe's activation after the frozen units [0, depth): kept from an earlier measurement at that depth, else computed and kept. */
  private boundaryActivation(units: readonly Unit[], depth: number): tf.Tensor {
    if (depth === 0) return this.probe!;
    let kept = this.atBoundary;
    if (kept?.depth !== depth) {
      this.prefixChanged();
      kept = { depth, activation: tf.keep(tf.tidy(() => runUnits(units, 0, depth, this.probe!, { training: false }))) };
      this.atBoundary = kept;
    }
    return kept.activation;
  }

  /** The frozen prefix changed (core-hooks' `frozenPrefix` event): units that were frozen may train again, so the kept activation goes. */
  prefixChanged(): void {
    this.atBoundary?.activation.dispose();
    this.atBoundary = null;
  }

  private undecided(lagEffect: number, updates: number, steps: number): boolean {
    const [low, high] = this.settings.certain ?? [0, Number.POSITIVE_INFINITY];
    const upper = fullRateEffect({ effect: lagEffect, updates }, null, steps, 'total');
    if (!Number.isFinite(upper)) return false;
    const lower = (upper / 2) * Math.sqrt(updates / steps);
    return upper > low && lower < high;
  }

  private judge(step: number, group: string, measured: { lag: number; far: number | null }): EffectObservation | null {
    const { lag, patience, effectThreshold, movement } = this.settings;
    const ring = this.rings.get(group)!;
    const statistic = this.statistic(group);
    const lagStart = ring[ring.length - lag]!;
    const farStart = measured.far === null ? null : ring[ring.length - 2 * lag]!;
    const effect = fullRateEffect(
      { effect: measured.lag, updates: statistic.updates - lagStart.updates },
      farStart && measured.far !== null ? { effect: measured.far, updates: statistic.updates - farStart.updates } : null,
      step - lagStart.step,
      movement,
    );
    // No update in the lag (or a regression's output): nothing to judge; the last verdict stands.
    if (!Number.isFinite(effect)) return null;
    statistic.values = [...statistic.values, effect].slice(-patience);
    statistic.observations++;
    const level = median(statistic.values);
    statistic.convergence = Math.min(1, Math.max(0, 1 - level / (2 * effectThreshold)));
    return { step, effect, lagEffect: measured.lag, farEffect: measured.far, level, convergence: statistic.convergence };
  }

  private snapshot(step: number, group: ParameterGroup): void {
    const ring = this.rings.get(group.name) ?? [];
    ring.push({ step, updates: this.statistic(group.name).updates, values: group.variables.map((variable) => tf.keep(variable.clone())) });
    // The oldest one a measurement reaches is 2·lag back (lag with 'total').
    const capacity = (this.settings.movement === 'directed' ? 2 : 1) * this.settings.lag;
    while (ring.length > capacity) tf.dispose(ring.shift()!.values);
    this.rings.set(group.name, ring);
  }

  /** Frees a group's snapshots (it froze); its statistic is kept. */
  release(group: string): void {
    for (const snapshot of this.rings.get(group) ?? []) tf.dispose(snapshot.values);
    this.rings.delete(group);
  }

  get snapshotGroups(): string[] {
    return [...this.rings.keys()];
  }

  async exportRings(): Promise<Record<string, SavedEffectRing>> {
    const saved: Record<string, SavedEffectRing> = {};
    for (const [group, ring] of this.rings) {
      saved[group] = {
        steps: ring.map((snapshot) => snapshot.step),
        updates: ring.map((snapshot) => snapshot.updates),
        snapshots: await Promise.all(ring.map((snapshot) => saveTensors(snapshot.values))),
      };
    }
    return saved;
  }

  importRings(saved: Record<string, SavedEffectRing>): void {
    for (const group of [...this.rings.keys()]) this.release(group);
    for (const [group, ring] of Object.entries(saved)) {
      this.rings.set(
        group,
        ring.snapshots.map((snapshot, index) => ({
          step: ring.steps[index]!,
          updates: ring.updates[index]!,
          values: loadTensors(snapshot),
        })),
      );
    }
  }

  async exportProbe(): Promise<SavedSnapshot | null> {
    return this.probe ? saveTensors([this.probe]) : null;
  }

  importProbe(saved: SavedSnapshot | null): void {
    this.prefixChanged();
    this.probe?.dispose();
    this.probe = saved ? loadTensors(saved)[0]! : null;
  }

  dispose(): void {
    for (const group of [...this.rings.keys()]) this.release(group);
    this.prefixChanged();
    this.probe?.dispose();
    this.probe = null;
  }
}
