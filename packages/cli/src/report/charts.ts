// The report's charts as vega-lite specs, built from the report data. A chart whose plugin ran in no
// configuration is left out, with the reason.
import type { TopLevelSpec } from 'vega-lite';
import type { RunResult } from '../run/run-training.js';
import type { ReportData } from './report-data.js';

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  /** One sentence under the chart: what it shows and where the numbers come from. */
  readonly caption: string;
  readonly spec: TopLevelSpec | null;
  /** Why there is no chart (spec null). */
  readonly missing?: string;
}

/** Size and look shared by every chart (long configuration names stay readable in legends). */
const SIZE = { width: 560, height: 260, config: { legend: { labelLimit: 320 } } } as const;

interface PlasticityReport {
  units: Array<{ name: string; index: number; series: Array<{ step: number; drift: number | null; effect: number | null }> }>;
}
interface PruneReport {
  groups: Record<string, { series: Array<{ step: number; probability: number }> }>;
}

export function reportCharts(data: ReportData): ChartSpec[] {
  return [accuracyChart(data), frozenPrefixChart(data), plasticityChart(data), pruneChart(data), cacheChart(data)];
}

function accuracyChart(data: ReportData): ChartSpec {
  const values = data.runs.flatMap((run) =>
    [{ seconds: 0, testAccuracy: null as number | null }, ...run.points].filter((point) => point.testAccuracy !== null).map((point) => ({
      configuration: run.configuration,
      seed: run.spec.seed,
      seconds: point.seconds,
      accuracy: point.testAccuracy,
    })),
  );
  return {
    id: 'accuracy',
    title: 'Test accuracy vs training time',
    caption: 'Test accuracy after each epoch against training wall-clock (evaluations off the clock); one line per seed.',
    spec: {
      ...SIZE,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'seconds', type: 'quantitative', title: 'training time (s)' },
        y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false } },
        color: { field: 'configuration', type: 'nominal' },
        detail: { field: 'seed', type: 'nominal' },
        tooltip: [{ field: 'configuration' }, { field: 'seed' }, { field: 'seconds', format: '.1f' }, { field: 'accuracy', format: '.4f' }],
      },
    },
  };
}

function frozenPrefixChart(data: ReportData): ChartSpec {
  const runs = data.runs.filter((run) => run.spec.plugins.includes('freeze'));
  const base = { id: 'frozen-prefix', title: 'Frozen prefix over time', caption: 'Units frozen at the front of the model (step-wise), against training time; one line per seed.' };
  if (runs.length === 0) return { ...base, spec: null, missing: 'no configuration ran the freeze plugin' };
  const values = runs.flatMap((run) => [
    ...run.frozenPrefixChanges.map((change) => ({ configuration: run.configuration, seed: run.spec.seed, seconds: change.seconds, frozenPrefix: change.frozenPrefix })),
    { configuration: run.configuration, seed: run.spec.seed, seconds: run.trainingSeconds, frozenPrefix: run.points.at(-1)?.frozenPrefix ?? 0 },
  ]);
  return {
    ...base,
    spec: {
      ...SIZE,
      data: { values },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'seconds', type: 'quantitative', title: 'training time (s)' },
        y: { field: 'frozenPrefix', type: 'quantitative', title: 'frozen units', axis: { tickMinStep: 1 } },
        color: { field: 'configuration', type: 'nominal' },
        detail: { field: 'seed', type: 'nominal' },
      },
    },
  };
}

/** The first run (lowest seed) of the first configuration that has `plugin`. */
function firstRunWith(data: ReportData, plugin: string): RunResult | undefined {
  return [...data.runs].filter((run) => run.spec.plugins.includes(plugin as never) && run.pluginReports[plugin]).sort((a, b) => a.spec.seed - b.spec.seed)[0];
}

/** One line per member (unit or group) over steps, for the first run that has the plugin. */
function perStepSeriesChart(
  base: { readonly id: string; readonly title: string },
  caption: string,
  values: Array<{ member: string; step: number; value: number }>,
  y: { readonly title: string; readonly domain?: [number, number] },
  missing: string,
): ChartSpec {
  if (values.length === 0) return { ...base, caption, spec: null, missing };
  return {
    ...base,
    caption,
    spec: {
      ...SIZE,
      data: { values },
      mark: { type: 'line' },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'value', type: 'quantitative', title: y.title, ...(y.domain ? { scale: { domain: y.domain } } : {}) },
        color: { field: 'member', type: 'nominal', sort: null, title: null },
      },
    },
  };
}

function plasticityChart(data: ReportData): ChartSpec {
  const run = firstRunWith(data, 'freeze');
  const base = { id: 'plasticity', title: 'Per-unit plasticity (freeze)' };
  if (!run) return { ...base, caption: '', spec: null, missing: 'no configuration ran the freeze plugin' };
  const report = run.pluginReports.freeze as PlasticityReport;
  // What the run's criterion read: each unit's output effect ('output-effect', the default), else its drift.
  const byEffect = report.units.some((unit) => unit.series.some((point) => point.effect !== null));
  const values = report.units.flatMap((unit) =>
    unit.series.flatMap((point) => {
      const value = byEffect ? point.effect : point.drift;
      return value === null ? [] : [{ member: `${unit.index} ${unit.name}`, step: point.step, value }];
    }),
  );
  const caption = byEffect
    ? `Output effect of each unit that may freeze: the share of the probe's predicted probability mass that undoing its recent learning moves, per evaluation; ${run.configuration}, seed ${run.spec.seed}.`
    : `Drift of each unit's activations from its int8 reference (SP loss), per evaluation; ${run.configuration}, seed ${run.spec.seed}.`;
  const y = byEffect ? { title: 'output effect (share of predictions moved)' } : { title: 'drift (SP loss)' };
  return perStepSeriesChart(base, caption, values, y, 'the freeze plugin made no evaluation (the run ended within its warm-up)');
}

function pruneChart(data: ReportData): ChartSpec {
  const run = firstRunWith(data, 'grad-prune');
  const base = { id: 'prune-probability', title: 'Per-group prune probability (grad-prune)' };
  if (!run) return { ...base, caption: '', spec: null, missing: 'no configuration ran the grad-prune plugin' };
  const report = run.pluginReports['grad-prune'] as PruneReport;
  const values = Object.entries(report.groups).flatMap(([group, { series }]) => series.map((point) => ({ member: group, step: point.step, value: point.probability })));
  const caption = `Probability that a parameter group's gradient is skipped, per monitoring point; ${run.configuration}, seed ${run.spec.seed}.`;
  return perStepSeriesChart(base, caption, values, { title: 'skip probability', domain: [0, 1] }, 'the grad-prune plugin recorded no monitoring point');
}

function cacheChart(data: ReportData): ChartSpec {
  const runs = data.runs.filter((run) => run.spec.plugins.includes('act-cache'));
  const base = { id: 'cache-hit-rate', title: 'Activation cache hit rate', caption: 'Batches served from the cache over batches that had a frozen prefix, between test evaluations (intervals with no frozen prefix are left out).' };
  if (runs.length === 0) return { ...base, spec: null, missing: 'no configuration ran the act-cache plugin' };
  const values = runs.flatMap((run) =>
    run.points.filter((point) => point.cacheHitRate !== null).map((point) => ({ configuration: run.configuration, seed: run.spec.seed, epoch: point.epoch, hitRate: point.cacheHitRate })),
  );
  if (values.length === 0) return { ...base, spec: null, missing: 'no batch had a frozen prefix, so the cache was never asked' };
  return {
    ...base,
    spec: {
      ...SIZE,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epochs trained' },
        y: { field: 'hitRate', type: 'quantitative', title: 'hit rate', scale: { domain: [0, 1] } },
        color: { field: 'configuration', type: 'nominal' },
        detail: { field: 'seed', type: 'nominal' },
      },
    },
  };
}
