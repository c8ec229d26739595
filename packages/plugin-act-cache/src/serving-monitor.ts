import { median } from '@trainhooks/core-hooks/internal';

/**
 * Does serving a boundary from the cache pay? The cache times both ways of reaching the boundary: steps
 * whose whole batch was served from it (read the rows, make the tensor, train the rest) and steps that
 * ran the prefix (the fill epoch's misses: the prefix's forward, then the same rest). When a served step
 * is not at least `minSaving` cheaper than a computed one — a cheap prefix, rows as big as its input,
 * a slow disk — serving only moves the time around, and the boundary is better computed: the plugin
 * stops serving it (and stops storing for it) and says why.
 *
 * Medians of the last `window` steps of each kind, so a step that met a worker's evaluation or a
 * garbage collection does not decide. A boundary is judged once, when both kinds have `window` steps.
 */
export interface ServingVerdict {
  readonly boundary: number;
  /** Median step that was served from the cache, ms. */
  readonly servedMs: number;
  /** Median step that ran the prefix (its store afterwards not included), ms. */
  readonly computedMs: number;
  /** 1 − served / computed: the share of a step serving saves (negative: it costs). */
  readonly saving: number;
  readonly reason: string;
}

export interface ServingMonitorOptions {
  /** Least share of a computed step that serving must save; below it the boundary is computed. */
  readonly minSaving: number;
  /** Steps of each kind the medians are taken over before the boundary is judged. */
  readonly window: number;
}

interface BoundaryTimes {
  served: number[];
  computed: number[];
  judged: boolean;
}

export class ServingMonitor {
  private readonly boundaries = new Map<number, BoundaryTimes>();
  private readonly bypassed = new Map<number, ServingVerdict>();

  constructor(private readonly options: ServingMonitorOptions) {}

  /** Whether this boundary was judged not worth serving. */
  isBypassed(boundary: number): boolean {
    return this.bypassed.has(boundary);
  }

  /** Every boundary stopped so far, with its reason. */
  verdicts(): ServingVerdict[] {
    return [...this.bypassed.values()];
  }

  /**
   * Records one step at `boundary`, served or computed, and returns the verdict when this step made
   * the boundary not worth serving (once per boundary), else null.
   */
  record(boundary: number, kind: 'served' | 'computed', ms: number): ServingVerdict | null {
    const times = this.timesOf(boundary);
    if (times.judged || !Number.isFinite(ms)) return null;
    const list = times[kind];
    list.push(ms);
    if (list.length > this.options.window) list.shift();
    if (times.served.length < this.options.window || times.computed.length < this.options.window) return null;
    times.judged = true;
    const servedMs = median(times.served);
    const computedMs = median(times.computed);
    const saving = 1 - servedMs / computedMs;
    if (saving >= this.options.minSaving) return null;
    const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
    const verdict: ServingVerdict = {
      boundary,
      servedMs,
      computedMs,
      saving,
      reason:
        `serving boundary ${boundary} from the cache saves ${percent(saving)} of a step (served ${servedMs.toFixed(2)} ms, computed ${computedMs.toFixed(2)} ms, ` +
        `medians of ${this.options.window}) < minSaving ${percent(this.options.minSaving)}: the prefix is computed instead`,
    };
    this.bypassed.set(boundary, verdict);
    return verdict;
  }

  private timesOf(boundary: number): BoundaryTimes {
    let times = this.boundaries.get(boundary);
    if (!times) {
      times = { served: [], computed: [], judged: false };
      this.boundaries.set(boundary, times);
    }
    return times;
  }
}
