// Writes report.md, report.json and report.html into the output directory, and each chart on its own
// as charts/<id>.svg (for a README or a paper).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { htmlReport, renderReportCharts } from './html-report.js';
import { markdownReport } from './markdown-report.js';
import type { ReportData } from './report-data.js';

export interface ReportPaths {
  readonly markdown: string;
  readonly json: string;
  readonly html: string;
}

export async function writeReport(data: ReportData, outDir: string): Promise<ReportPaths> {
  mkdirSync(outDir, { recursive: true });
  const paths = { markdown: resolve(join(outDir, 'report.md')), json: resolve(join(outDir, 'report.json')), html: resolve(join(outDir, 'report.html')) };
  writeFileSync(paths.json, `${JSON.stringify(data, null, 1)}\n`);
  writeFileSync(paths.markdown, markdownReport(data));
  const rendered = await renderReportCharts(data);
  writeFileSync(paths.html, await htmlReport(data, rendered));
  mkdirSync(join(outDir, 'charts'), { recursive: true });
  for (const { chart, svg } of rendered) if (svg !== null) writeFileSync(join(outDir, 'charts', `${chart.id}.svg`), svg);
  return paths;
}
