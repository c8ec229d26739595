// report.html: one self-contained file (inline SVG, inline CSS, no script), viewable offline. The charts
// are vega-lite specs compiled and rendered to SVG by vega in Node.
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { reportCharts, type ChartSpec } from './charts.js';
import { settingsLines, tableNotes } from './markdown-report.js';
import type { ReportData } from './report-data.js';
import { summaryTable } from './summary-table.js';

export async function renderChartSvg(chart: ChartSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(chart.spec!).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A chart of the report, drawn (svg) or left out (svg null, chart.missing says why). */
export interface RenderedChart {
  readonly chart: ChartSpec;
  readonly svg: string | null;
}

export async function renderReportCharts(data: ReportData): Promise<RenderedChart[]> {
  return Promise.all(reportCharts(data).map(async (chart) => ({ chart, svg: chart.spec === null ? null : await renderChartSvg(chart) })));
}

export async function htmlReport(data: ReportData, rendered?: readonly RenderedChart[]): Promise<string> {
  const table = summaryTable(data.summary, data.settings.targetDropPoints);
  const figures = (rendered ?? (await renderReportCharts(data))).map(({ chart, svg }) =>
    svg === null
      ? `<section class="chart missing" id="${chart.id}"><h2>${escape(chart.title)}</h2><p>No chart: ${escape(chart.missing ?? '')}.</p></section>`
      : `<figure class="chart" id="${chart.id}"><h2>${escape(chart.title)}</h2>${svg}<figcaption>${escape(chart.caption)}</figcaption></figure>`,
  );
  const settings = settingsLines(data).map((line) => `<li>${escape(line).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')}</li>`).join('');
  const notes = [
    data.interrupted ? '<p class="warning">Interrupted: only the runs that finished are included.</p>' : '',
    data.failures.length > 0 ? `<p class="warning">Failed runs: ${data.failures.map((f) => escape(`${f.configuration} seed ${f.seed}: ${f.message.split('\n')[0]}`)).join('; ')}</p>` : '',
  ].join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>trainhooks ${data.settings.command} report</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
.chart { margin: 1.5rem 0; }
.chart h2 { font-size: 1.05rem; margin: 0 0 0.4rem; }
figcaption, .missing p { color: #555; }
.warning { color: #a40; font-weight: 600; }
</style>
</head>
<body>
<h1>trainhooks ${data.settings.command} report</h1>
<ul>${settings}</ul>
${notes}
<table>
<thead><tr>${table.headers.map((header) => `<th>${escape(header)}</th>`).join('')}</tr></thead>
<tbody>${table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`).join('')}</tbody>
</table>
<p>${escape(tableNotes(data).join(' '))}</p>
${figures.join('\n')}
<p><small>Generated ${escape(data.createdAt)}; the raw numbers are in report.json.</small></p>
</body>
</html>
`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}
