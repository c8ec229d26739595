// The summary as a table of strings: what report.md, report.html and the terminal print.
import type { ConfigurationSummary } from './summary.js';

export interface Table {
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

export function summaryTable(summary: readonly ConfigurationSummary[], targetDropPoints: number): Table {
  // Without a baseline (a `train` of plugins) there is nothing to compare against: no speedup columns.
  const compared = summary.some((row) => row.speedup !== null);
  type Column = [header: string, cell: (row: ConfigurationSummary) => string];
  const comparison: Column[] = [
    ['time to target (s)', (row) => (row.secondsToTarget === null ? '–' : row.secondsToTarget.toFixed(1))],
    [`speedup to baseline acc − ${targetDropPoints} pt (median, min–max)`, formatSpeedup],
  ];
  const columns: Column[] = [
    ['configuration', (row) => row.configuration],
    ['runs', (row) => String(row.runs)],
    ...(compared ? comparison : []),
    ['final test acc (median, min–max)', (row) => `${row.finalAccuracy.median.toFixed(4)} (${row.finalAccuracy.min.toFixed(4)}–${row.finalAccuracy.max.toFixed(4)})`],
    ['samples/s', (row) => row.samplesPerSecond.toFixed(0)],
    ['backward skipped', (row) => percent(row.backwardSkippedShare)],
    ['forward skipped by cache', (row) => percent(row.forwardSkippedShare)],
    ['gradient bytes not communicated', (row) => `${formatBytes(row.bytesNotCommunicated)} (${percent(row.bytesNotCommunicatedShare)})`],
  ];
  return { headers: columns.map(([header]) => header), rows: summary.map((row) => columns.map(([, cell]) => cell(row))) };
}

function formatSpeedup(row: ConfigurationSummary): string {
  if (row.speedup === null) return 'no baseline';
  const compared = row.seeds.filter((seed) => seed.speedup !== null).length;
  if (row.missedTarget === compared) return `missed (${compared}/${compared} seeds)`;
  const times = (value: number) => (value === 0 ? 'missed' : `${value.toFixed(2)}×`);
  const range = row.speedup.min === row.speedup.max ? '' : ` (${times(row.speedup.min)}–${times(row.speedup.max)})`;
  const missed = row.missedTarget > 0 ? `, missed on ${row.missedTarget}/${compared} seeds` : '';
  return `${times(row.speedup.median)}${range}${missed}`;
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
