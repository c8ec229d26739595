// Speedups are per seed against that seed's baseline, at the baseline's final accuracy − the drop.
import { describe, expect, it } from 'vitest';
import type { PluginDescription } from '@trainhooks/core-hooks';
import { DEFAULT_RUN_SPEC, noiseNote, summarise, summaryTable, type RunResult } from '@trainhooks/cli/internal';

function run(configuration: string, seed: number, curve: Array<[seconds: number, accuracy: number]>, work: Partial<RunResult['work']> = {}): RunResult {
  const plugins = configuration === 'baseline' ? [] : (configuration.split('+') as RunResult['spec']['plugins']);
  const points = curve.map(([seconds, testAccuracy], i) => ({ epoch: i + 1, seconds, testAccuracy, testLoss: 0, trainLoss: 0, frozenPrefix: 0, learningRate: 0.001, samplesPerSecond: 100, cacheHitRate: null }));
  return {
    configuration,
    spec: { ...DEFAULT_RUN_SPEC, learningRate: 0.001, plugins, seed },
    backend: 'cpu',
    threads: 1,
    dataSource: 'test',
    trainSamples: 100,
    testSamples: 10,
    points,
    finalAccuracy: points.at(-1)!.testAccuracy,
    trainingSeconds: points.at(-1)!.seconds,
    samplesPerSecond: 100,
    stepMsMedian: 1,
    work: { steps: 1, samples: 1, forwardFlops: 100, forwardFlopsSkipped: 0, backwardFlops: 200, backwardFlopsSkipped: 0, gradientBytes: 1000, gradientBytesNotCommunicated: 0, ...work },
    frozenPrefixChanges: [],
    unitNames: [],
    pluginReports: {},
    pluginDescriptions: Object.fromEntries(plugins.map((name) => [name, DESCRIPTIONS[name] ?? null])),
  };
}

/** What the built-in plugins' describe() says (a plugin of one's own may say nothing: null). */
const DESCRIPTIONS: Record<string, PluginDescription> = {
  freeze: { speedup: 'skips-work', communicates: false },
  'act-cache': { speedup: 'skips-work', communicates: false },
  'grad-prune': { speedup: 'skips-work', communicates: false },
  pipeline: { speedup: 'parallel', communicates: false },
  mpi: { speedup: 'parallel', communicates: true },
};

describe('summarise', () => {
  const results = [
    run('baseline', 1, [[10, 0.8], [20, 0.85], [30, 0.9]]),
    run('baseline', 2, [[10, 0.7], [20, 0.8], [30, 0.88]]),
    // Seed 1: reaches 0.897 (0.9 − 0.3 pt) at 15 s → 2×. Seed 2: reaches 0.877 at 24 s → 1.25×.
    run('freeze', 1, [[8, 0.85], [15, 0.9], [22, 0.91]], { backwardFlopsSkipped: 50, gradientBytesNotCommunicated: 250 }),
    run('freeze', 2, [[8, 0.8], [16, 0.85], [24, 0.88]], { backwardFlopsSkipped: 100, gradientBytesNotCommunicated: 500 }),
    // Seed 1 never reaches 0.897 (missed), seed 2 has no baseline counterpart of its own? it does: reaches 0.877 at 30 s → 1×.
    run('freeze+act-cache', 1, [[5, 0.85], [10, 0.89], [15, 0.89]], { forwardFlopsSkipped: 40 }),
    run('freeze+act-cache', 2, [[10, 0.8], [20, 0.85], [30, 0.88]], { forwardFlopsSkipped: 20 }),
  ];
  const [baseline, freeze, cached] = summarise(results, ['baseline', 'freeze', 'freeze+act-cache'], 0.3);

  it('compares each seed with its own baseline', () => {
    expect(baseline!.speedup).toEqual({ median: 1, min: 1, max: 1 });
    expect(freeze!.seeds.map((seed) => seed.speedup)).toEqual([2, 1.25]);
    expect(freeze!.seeds[0]!.targetAccuracy).toBeCloseTo(0.897, 10);
    expect(freeze!.speedup!.median).toBeCloseTo(1.625, 10);
    expect(freeze!.missedTarget).toBe(0);
  });

  it('counts a missed target as speedup 0, not as a missing seed', () => {
    expect(cached!.seeds.map((seed) => seed.speedup)).toEqual([0, 1]);
    expect(cached!.missedTarget).toBe(1);
    expect(cached!.speedup).toEqual({ median: 0.5, min: 0, max: 1 });
  });

  it('reports the medians of accuracy and of the skipped-work shares', () => {
    expect(freeze!.finalAccuracy).toEqual({ median: (0.91 + 0.88) / 2, min: 0.88, max: 0.91 });
    expect(freeze!.backwardSkippedShare).toBeCloseTo(0.375, 10);
    expect(freeze!.bytesNotCommunicated).toBe(375);
    expect(freeze!.bytesNotCommunicatedShare).toBeCloseTo(0.375, 10);
    expect(cached!.forwardSkippedShare).toBeCloseTo(0.3, 10);
  });

  it('has no speedup for a seed without a baseline', () => {
    const [only] = summarise([run('freeze', 3, [[1, 0.5]])], ['baseline', 'freeze'], 0.3);
    expect(only!.configuration).toBe('freeze');
    expect(only!.speedup).toBeNull();
    expect(only!.seeds[0]!.speedup).toBeNull();
  });
});

describe('honest time ratios', () => {
  // Baselines of 100 s and 110 s: the machine's noise is 10 / 105 ≈ 9.5 %.
  const baselines = [run('baseline', 1, [[50, 0.8], [100, 0.9]]), run('baseline', 2, [[55, 0.8], [110, 0.9]])];

  it('gives each configuration its whole-run ratio per seed and the baselines\' spread as the noise', () => {
    const [, freeze] = summarise([...baselines, run('freeze', 1, [[25, 0.8], [50, 0.9]], { backwardFlopsSkipped: 50 }), run('freeze', 2, [[25, 0.8], [55, 0.9]], { backwardFlopsSkipped: 50 })], ['baseline', 'freeze'], 0.3);
    expect(freeze!.wholeRun).toEqual({ median: 2, min: 2, max: 2 });
    expect(freeze!.timeNoise).toBeCloseTo(10 / 105, 10);
    expect(summaryTable([freeze!], 0.3).rows[0]![2]).toBe('2.00×');
  });

  it('labels a configuration that skipped nothing instead of giving it a speedup', () => {
    const summary = summarise([...baselines, run('freeze+act-cache', 1, [[45, 0.8], [90, 0.9]]), run('freeze+act-cache', 2, [[50, 0.8], [100, 0.9]])], ['baseline', 'freeze+act-cache'], 0.3);
    const noop = summary[1]!;
    expect(noop.skippedNothing).toBe(true);
    const table = summaryTable(summary, 0.3);
    const cell = (header: RegExp) => table.rows[1]![table.headers.findIndex((h) => header.test(h))];
    expect(cell(/^whole run/)).toBe('skipped nothing');
    expect(cell(/^speedup to baseline/)).toBe('skipped nothing');
  });

  it('does not call a parallelising plugin a no-op when its skip counters read zero', () => {
    const [, pipeline] = summarise([...baselines, run('pipeline', 1, [[40, 0.8], [80, 0.9]]), run('pipeline', 2, [[44, 0.8], [88, 0.9]])], ['baseline', 'pipeline'], 0.3);
    expect(pipeline!.skippedNothing).toBe(false);
    expect(pipeline!.wholeRun!.median).toBeCloseTo(1.25, 10);
  });

  it('does not judge a plugin that does not describe itself', () => {
    const [, own] = summarise([...baselines, run('./my-plugin.js', 1, [[40, 0.8], [80, 0.9]]), run('./my-plugin.js', 2, [[44, 0.8], [88, 0.9]])], ['baseline', './my-plugin.js'], 0.3);
    expect(own!.skippedNothing).toBe(false);
    expect(own!.communicates).toBe(false);
  });

  it('marks a ratio within the baselines\' spread as within noise', () => {
    const summary = summarise([...baselines, run('grad-prune', 1, [[48, 0.8], [96, 0.9]], { backwardFlopsSkipped: 1 }), run('grad-prune', 2, [[52, 0.8], [104, 0.9]], { backwardFlopsSkipped: 1 })], ['baseline', 'grad-prune'], 0.3);
    const table = summaryTable(summary, 0.3);
    expect(table.rows[1]![2]).toMatch(/^1\.0\d× \(1\.0\d×–1\.0\d×\), within noise$/);
    expect(noiseNote(summary)).toMatch(/spread by 9\.5 % over seeds/);
  });

  it('says that one seed measures no noise', () => {
    const summary = summarise([baselines[0]!, run('freeze', 1, [[40, 0.8], [90, 0.9]], { backwardFlopsSkipped: 5 })], ['baseline', 'freeze'], 0.3);
    expect(summary[1]!.timeNoise).toBeNull();
    expect(noiseNote(summary)).toMatch(/^One seed: .*--seeds 3/);
  });

  it('shows bytes not communicated only when a communicating plugin ran', () => {
    const single = summaryTable(summarise([...baselines, run('freeze', 1, [[25, 0.8], [50, 0.9]], { backwardFlopsSkipped: 5, gradientBytesNotCommunicated: 10 })], ['baseline', 'freeze'], 0.3), 0.3);
    expect(single.headers).not.toContain('gradient bytes not communicated');
    const mpi = summaryTable(summarise([...baselines, run('mpi+freeze', 1, [[25, 0.8], [50, 0.9]], { backwardFlopsSkipped: 5, gradientBytesNotCommunicated: 10 })], ['baseline', 'mpi+freeze'], 0.3), 0.3);
    expect(mpi.headers).toContain('gradient bytes not communicated');
  });
});
