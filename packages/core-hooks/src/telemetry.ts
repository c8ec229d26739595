import * as hdr from 'hdr-histogram-js';

/** Phases of a step whose latency the trainer records. */
export const PHASES = ['forward', 'backward', 'allreduce', 'update', 'step'] as const;
export type Phase = (typeof PHASES)[number] | (string & {});

export interface LatencySummary {
  readonly count: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

export interface TrainerStats {
  readonly phases: Record<string, LatencySummary>;
  readonly counters: Record<string, number>;
}

/** Latency histograms (µs, HdrHistogram) per phase, and named counters. */
export class Telemetry {
  private readonly histograms = new Map<string, hdr.Histogram>();
  private readonly counters = new Map<string, number>();

  /** Records one latency in microseconds. */
  record(phase: Phase, microseconds: number): void {
    let histogram = this.histograms.get(phase);
    if (!histogram) {
      histogram = hdr.build({
        bitBucketSize: 'packed',
        lowestDiscernibleValue: 1,
        highestTrackableValue: 3_600_000_000,
        numberOfSignificantValueDigits: 3,
        useWebAssembly: false,
      });
      this.histograms.set(phase, histogram);
    }
    histogram.recordValue(Math.max(1, Math.round(microseconds)));
  }

  /** Adds `amount` to a counter (skipped kernels, bytes not communicated, cache hits…). */
  count(counter: string, amount = 1): void {
    this.counters.set(counter, (this.counters.get(counter) ?? 0) + amount);
  }

  counter(counter: string): number {
    return this.counters.get(counter) ?? 0;
  }

  summary(): TrainerStats {
    const phases: Record<string, LatencySummary> = {};
    for (const [phase, h] of this.histograms) {
      phases[phase] = {
        count: h.totalCount,
        meanUs: h.mean,
        p50Us: h.getValueAtPercentile(50),
        p90Us: h.getValueAtPercentile(90),
        p99Us: h.getValueAtPercentile(99),
        maxUs: h.maxValue,
      };
    }
    return { phases, counters: Object.fromEntries(this.counters) };
  }

  reset(): void {
    for (const h of this.histograms.values()) h.reset();
    this.counters.clear();
  }
}

/** Microseconds since `start` (a performance.now() reading). */
export function microsecondsSince(start: number): number {
  return (performance.now() - start) * 1000;
}
