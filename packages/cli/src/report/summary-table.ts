// The summary as a table of strings: what report.md, report.html and the terminal print.
import type { Spread } from './statistics.js';
import type { ConfigurationSummary } from './summary.js';

export interface Table {
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

export function summaryTable(summary: readonly ConfigurationSummary[], targetDropPoints: number): Table {
  // Without a baseline (a `train` of plugins) there is nothing to compare against: no speedup columns.
  const compared = summary.some((row) => row.speedup !== null);
  const communicates = summary.some((row) => row.communicates);
  type Column = [header: string, cell: (row: ConfigurationSummary) => string];
  const comparison: Column[] = [
    ['whole run vs baseline (median, min–max)', (row) => formatRatio(row, row.wholeRun)],
    ['time to target (s)', (row) => (row.secondsToTarget === null ? '–' : row.secondsToTarget.toFixed(1))],
    [`speedup to baseline acc − ${targetDropPoints} pt (median, min–max)`, formatSpeedup],
  ];
  const columns: Column[] = [
    ['configuration', (row) => row.configuration],
    ['runs', (row) => String(row.runs)],
    ...(compared ? comparison : []),
    ['final test acc (median, min–max)', (row) => `${row.finalAccuracy.median.toFixed(4)} (${row.finalAccuracy.min.toFixed(4)}–${row.finalAccuracy.max.toFixed(4)})`],
    ['samples/s', (row) => row.samplesPerSecond.toFixed(0)],
    ['step p50 (ms, measured)', (row) => (Number.isFinite(row.stepMs) ? row.stepMs.toFixed(1) : '–')],
    ['backward skipped (counted)', (row) => percent(row.backwardSkippedShare)],
    ['forward skipped by cache (counted)', (row) => percent(row.forwardSkippedShare)],
    // Only a communicating plugin makes "not sent" a saving; a single process sends nothing either way.
    ...(communicates ? ([['gradient bytes not communicated', (row) => `${formatBytes(row.bytesNotCommunicated)} (${percent(row.bytesNotCommunicatedShare)})`]] as Column[]) : []),
  ];
  return { headers: columns.map(([header]) => header), rows: summary.map((row) => columns.map(([, cell]) => cell(row))) };
}

/** How to read the time ratios of this summary: the measured noise, or that there is none. */
export function noiseNote(summary: readonly ConfigurationSummary[]): string {
  const noise = summary[0]?.timeNoise ?? null;
  if (!summary.some((row) => row.wholeRun !== null)) return '';
  if (noise === null) {
    return 'One seed: the time ratios carry no measure of the machine\'s noise (a shared machine easily moves a run by 10 %); rerun with --seeds 3 before trusting a difference.';
  }
  return `Noise: the baseline's training time spread by ${percent(noise)} over seeds (same work, other data order); a time ratio within that of 1× is marked "within noise".`;
}

/** A time ratio over seeds, labelled when it cannot be a speedup (nothing skipped) or is within the noise. */
function formatRatio(row: ConfigurationSummary, ratio: Spread | null): string {
  if (ratio === null) return 'no baseline';
  if (row.skippedNothing) return 'skipped nothing';
  const times = (value: number) => (value === 0 ? 'missed' : `${value.toFixed(2)}×`);
  const range = ratio.min === ratio.max ? '' : ` (${times(ratio.min)}–${times(ratio.max)})`;
  const noisy = row.configuration !== 'baseline' && row.timeNoise !== null && ratio.median > 0 && Math.abs(ratio.median - 1) <= row.timeNoise;
  return `${times(ratio.median)}${range}${noisy ? ', within noise' : ''}`;
}

function formatSpeedup(row: ConfigurationSummary): string {
  if (row.speedup === null) return 'no baseline';
  if (row.skippedNothing) return 'skipped nothing';
  const compared = row.seeds.filter((seed) => seed.speedup !== null).length;
  if (row.missedTarget === compared) return `missed (${compared}/${compared} seeds)`;
  const missed = row.missedTarget > 0 ? `, missed on ${row.missedTarget}/${compared} seeds` : '';
  return `${formatRatio(row, row.speedup)}${missed}`;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function markdownTable(table: Table): string {
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(table.headers), line(table.headers.map(() => '---')), ...table.rows.map(line)].join('\n');
}
