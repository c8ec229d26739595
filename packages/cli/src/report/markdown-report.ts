// report.md: the table with what it was measured on and how to read it.
import type { ReportData } from './report-data.js';
import { markdownTable, noiseNote, summaryTable } from './summary-table.js';

export function settingsLines(data: ReportData): string[] {
  const { settings, machine } = data;
  const base = settings.base;
  const schedule = base.lrSchedule ? `, ×${base.lrSchedule.factor} every ${base.lrSchedule.everyEpochs} epochs` : '';
  return [
    `model **${base.model}**, data ${base.data === 'subset' ? 'the embedded Fashion-MNIST subset' : (data.dataSource ?? base.data)} (${data.trainSamples ?? '?'} train / ${data.testSamples ?? '?'} test samples)`,
    `${base.epochs} epochs, batch ${base.batchSize}, ${base.optimizer} lr ${base.learningRate}${schedule}; test accuracy ${(base.evalsPerEpoch ?? 1) > 1 ? `${base.evalsPerEpoch} times per epoch` : 'after each epoch'}`,
    `backend **${data.backends.join(', ') || base.backend}**; machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`,
    `seeds ${settings.seeds.join(', ')}; ${settings.parallel > 1 ? `${settings.parallel} runs side by side (each shares the machine with another)` : 'one run at a time'}`,
  ];
}

export function markdownReport(data: ReportData): string {
  const { settings } = data;
  const lines = [
    `# trainhooks ${settings.command} report`,
    '',
    ...settingsLines(data).map((line) => `- ${line}`),
    '',
    markdownTable(summaryTable(data.summary, settings.targetDropPoints)),
    '',
    ...tableNotes(data),
  ];
  if (data.interrupted) lines.push('', '**Interrupted**: only the runs that finished are included.');
  if (data.failures.length > 0) {
    lines.push('', '## Failed runs', '');
    for (const failure of data.failures) lines.push(`- ${failure.configuration}, seed ${failure.seed}: ${failure.message.split('\n')[0]}`);
  }
  return `${lines.join('\n')}\n`;
}

/** How to read the table: the target, the noise, what is counted and what is measured. */
export function tableNotes(data: ReportData): string[] {
  const notes = [
    `Target: the baseline's final test accuracy of the same seed − ${data.settings.targetDropPoints} points; time counts training only`,
    '(test evaluations are off the clock). A configuration that never reaches the target is "missed" (speedup 0 in the median);',
    'one whose plugins skipped no work (and run nothing in parallel) is "skipped nothing": its time ratio is the machine, not a speedup.',
    noiseNote(data.summary),
    'Skipped work is counted, not measured: conv/dense multiply-adds each step\'s decisions left out, against the same step without',
    'skipping. The measured column is the trainer\'s step time (telemetry p50).',
  ];
  if (data.summary.some((row) => row.communicates)) notes.push('Gradient bytes are those the data-parallel all-reduce did not send (frozen and pruned variables).');
  return notes.filter((line) => line !== '');
}
