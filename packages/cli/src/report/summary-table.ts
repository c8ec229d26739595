// The summary as a table of strings: what report.md, report.html and the terminal print.
import type { ConfigurationSummary } from './summary.js';

export interface Table {
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

export function summaryTable(summary: readonly ConfigurationSummary[], targetDropPoints: number): Table {
  return {
    headers: [
      'configuration',
      'runs',
      `time to target (s)`,
      `speedup to baseline acc − ${targetDropPoints} pt (median, min–max)`,
      'final test acc (median, min–max)',
      'samples/s',
      'backward skipped',
      'forward skipped by cache',
      'gradient bytes not communicated',
    ],
    rows: summary.map((row) => [
      row.configuration,
      String(row.runs),
      row.secondsToTarget === null ? '–' : row.secondsToTarget.toFixed(1),
      formatSpeedup(row),
      `${row.finalAccuracy.median.toFixed(4)} (${row.finalAccuracy.min.toFixed(4)}–${row.finalAccuracy.max.toFixed(4)})`,
      row.samplesPerSecond.toFixed(0),
      percent(row.backwardSkippedShare),
      percent(row.forwardSkippedShare),
      `${formatBytes(row.bytesNotCommunicated)} (${percent(row.bytesNotCommunicatedShare)})`,
    ]),
  };
}

function formatSpeedup(row: ConfigurationSummary): string {
  if (row.speedup === null) return 'no baseline';
  const times = (value: number) => (value === 0 ? 'missed' : `${value.toFixed(2)}×`);
  const range = row.speedup.min === row.speedup.max ? '' : ` (${times(row.speedup.min)}–${times(row.speedup.max)})`;
  const missed = row.missedTarget > 0 ? `, missed on ${row.missedTarget}/${row.seeds.length}` : '';
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
