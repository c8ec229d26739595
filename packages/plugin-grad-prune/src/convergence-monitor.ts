import * as tf from '@tensorflow/tfjs-core';
import { growthExponent, saturationConvergence } from './displacement-growth.js';
import { loadTensors, saveTensors, type SavedSnapshot } from './saved-tensors.js';

/**
 * How a group's convergence is scored. 'peak' (Convergence-Aware Training's normalisation): its
 * smoothed change rate against its own peak, every monitor point. 'saturation': whether its distance
 * from an anchor snapshot still grows with the updates since (displacement-growth.ts), once per window.
 */
export type ConvergenceScore = 'peak' | 'saturation';

/** A group of semantically related parameters: converge together, pruned together. */
export interface ParameterGroup {
  readonly name: string;
  readonly unit: number;
  readonly variables: readonly tf.Variable[];
}

/** One group's statistic at one monitor point. */
export interface GroupObservation {
  readonly step: number;
  /** ‖Δw‖ / ‖w‖ since the previous monitor point, divided by the updates the group received (and scaled). */
  readonly rate: number;
  readonly smoothedRate: number;
  /** In [0, 1]: 1 − smoothedRate / peak smoothed rate ('peak'), or 1 − growth clamped ('saturation'). */
  readonly convergence: number;
  /** 'saturation' only: the exponent g of distance² ∝ updates^g over the window. */
  readonly growth?: number;
}

/** What the monitor keeps per group (plain numbers: exportable). */
export interface GroupStatistic {
  /** 'peak': the EMA of the rate, and its highest value so far. */
  smoothedRate: number | null;
  peak: number;
  observations: number;
  updatesSinceSnapshot: number;
  convergence: number;
  /** 'saturation': monitor points since the anchor snapshot. */
  pointsSinceSnapshot: number;
  /** 'saturation': the displacement at the window's midpoint (null before it). */
  halfDistance: number | null;
  halfUpdates: number;
  /** 'saturation': the rate scale (1 / learning rate) when the anchor was taken; a change restarts the window. */
  anchorScale: number | null;
}

export function newGroupStatistic(): GroupStatistic {
  return { smoothedRate: null, peak: 0, observations: 0, updatesSinceSnapshot: 0, convergence: 0, pointsSinceSnapshot: 0, halfDistance: null, halfUpdates: 0, anchorScale: null };
}

/**
 * The light-weight convergence monitor of Convergence-Aware Training: at each monitor point, per group,
 * the relative change ‖w − w_prev‖ / ‖w‖ since its last snapshot, per update it received (pruned steps
 * do not dilute it), smoothed by an EMA; a group's convergence compares that with its own peak. With
 * the 'saturation' score the snapshot is an anchor kept for a window of 2 · `lag` monitor points and
 * the distance from it is read at the middle and the end. One snapshot per monitored group either way,
 * freed when the group leaves.
 */
export class ConvergenceMonitor {
  private readonly snapshots = new Map<string, tf.Tensor[]>();
  readonly statistics = new Map<string, GroupStatistic>();

  constructor(
    private readonly smoothing: number,
    private readonly score: ConvergenceScore = 'peak',
    private readonly lag = 5,
  ) {}

  statistic(group: string): GroupStatistic {
    let statistic = this.statistics.get(group);
    if (!statistic) {
      statistic = newGroupStatistic();
      this.statistics.set(group, statistic);
    }
    return statistic;
  }

  /** The group's weights changed by one optimizer update. */
  countUpdate(group: string): void {
    this.statistic(group).updatesSinceSnapshot++;
  }

  /**
   * Measures every group (one read-back for all of them) and takes new snapshots. `scale` multiplies
   * the rates (the plugin passes 1 / learning rate).
   */
  async observe(step: number, groups: readonly ParameterGroup[], scale = 1): Promise<Map<string, GroupObservation>> {
    if (this.score === 'saturation') return this.observeSaturation(step, groups, scale);
    const measured = groups.filter((group) => this.snapshots.has(group.name) && this.statistic(group.name).updatesSinceSnapshot > 0);
    const ratios = measured.length > 0 ? await this.relativeChanges(measured) : new Float32Array(0);
    const observations = new Map<string, GroupObservation>();
    measured.forEach((group, index) => {
      const statistic = this.statistic(group.name);
      const rate = (ratios[index]! * scale) / statistic.updatesSinceSnapshot;
      const smoothed = statistic.smoothedRate === null ? rate : this.smoothing * statistic.smoothedRate + (1 - this.smoothing) * rate;
      statistic.smoothedRate = smoothed;
      statistic.peak = Math.max(statistic.peak, smoothed);
      statistic.observations++;
      statistic.convergence = statistic.peak > 0 ? Math.min(1, Math.max(0, 1 - smoothed / statistic.peak)) : 0;
      observations.set(group.name, { step, rate, smoothedRate: smoothed, convergence: statistic.convergence });
    });
    for (const group of groups) {
      if (this.snapshots.has(group.name) && this.statistic(group.name).updatesSinceSnapshot === 0) continue;
      this.takeSnapshot(group);
    }
    return observations;
  }

  /**
   * 'saturation': counts the monitor point for every group and reads the distance from the anchor only
   * at the window's middle and end (so most points cost nothing); at the end scores the window and
   * re-anchors. A new learning rate restarts the window: the growth must be measured at one rate.
   */
  private async observeSaturation(step: number, groups: readonly ParameterGroup[], scale: number): Promise<Map<string, GroupObservation>> {
    const due: ParameterGroup[] = [];
    for (const group of groups) {
      const statistic = this.statistic(group.name);
      if (!this.snapshots.has(group.name) || statistic.anchorScale !== scale) {
        this.anchor(group, scale);
        continue;
      }
      statistic.pointsSinceSnapshot++;
      if (statistic.pointsSinceSnapshot === this.lag || statistic.pointsSinceSnapshot >= 2 * this.lag) due.push(group);
    }
    // Relative to the anchor's norm, fixed over the window, so only the distance grows in the ratio.
    const distances = due.length > 0 ? await this.relativeChanges(due, 'anchor') : new Float32Array(0);
    const observations = new Map<string, GroupObservation>();
    due.forEach((group, index) => {
      const statistic = this.statistic(group.name);
      const distance = distances[index]!;
      if (statistic.pointsSinceSnapshot === this.lag) {
        statistic.halfDistance = distance;
        statistic.halfUpdates = statistic.updatesSinceSnapshot;
        return;
      }
      const growth = statistic.halfDistance === null ? null : growthExponent({ distance: statistic.halfDistance, updates: statistic.halfUpdates }, { distance, updates: statistic.updatesSinceSnapshot });
      if (growth !== null) {
        // The net rate over the window, per update and unit of learning rate: for the report.
        const rate = (distance * scale) / statistic.updatesSinceSnapshot;
        statistic.convergence = saturationConvergence(growth);
        statistic.observations++;
        observations.set(group.name, { step, rate, smoothedRate: rate, convergence: statistic.convergence, growth });
      }
      this.anchor(group, scale);
    });
    return observations;
  }

  private anchor(group: ParameterGroup, scale: number): void {
    this.takeSnapshot(group);
    const statistic = this.statistic(group.name);
    statistic.pointsSinceSnapshot = 0;
    statistic.halfDistance = null;
    statistic.halfUpdates = 0;
    statistic.anchorScale = scale;
  }

  /** ‖w − w_prev‖ / ‖w‖ (or / ‖w_prev‖) of each group, with a few fused ops per variable and one read-back. */
  private async relativeChanges(groups: readonly ParameterGroup[], normOf: 'current' | 'anchor' = 'current'): Promise<Float32Array> {
    const ratios = tf.tidy(() =>
      tf.stack(
        groups.map((group) => {
          const previous = this.snapshots.get(group.name)!;
          const changed = tf.addN(group.variables.map((v, i) => tf.sum(tf.squaredDifference(v, previous[i]!))));
          const size = tf.addN((normOf === 'current' ? group.variables : previous).map((v) => tf.sum(tf.square(v))));
          return tf.div(tf.sqrt(changed), tf.maximum(tf.sqrt(size), 1e-12));
        }),
      ),
    );
    const values = (await ratios.data()) as Float32Array;
    ratios.dispose();
    return values;
  }

  private takeSnapshot(group: ParameterGroup): void {
    tf.dispose(this.snapshots.get(group.name) ?? []);
    this.snapshots.set(group.name, group.variables.map((v) => tf.keep(v.clone())));
    this.statistic(group.name).updatesSinceSnapshot = 0;
  }

  /** Frees a group's snapshot (it froze, or it is no longer monitored); its statistic is kept. */
  release(group: string): void {
    tf.dispose(this.snapshots.get(group) ?? []);
    this.snapshots.delete(group);
  }

  get snapshotGroups(): string[] {
    return [...this.snapshots.keys()];
  }

  async exportSnapshots(): Promise<Record<string, SavedSnapshot>> {
    const saved: Record<string, SavedSnapshot> = {};
    for (const [group, tensors] of this.snapshots) {
      saved[group] = await saveTensors(tensors);
    }
    return saved;
  }

  importSnapshots(saved: Record<string, SavedSnapshot>): void {
    this.dispose();
    for (const [group, snapshot] of Object.entries(saved)) {
      this.snapshots.set(group, loadTensors(snapshot));
    }
  }

  dispose(): void {
    for (const group of [...this.snapshots.keys()]) this.release(group);
  }
}
