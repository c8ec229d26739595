// Which configurations an ablation runs (--matrix). Every matrix starts with the baseline: speedups
// are measured against it, seed by seed.
import { isPluginRef, unknownPluginMessage, type PluginRef } from '../plugins/plugin-names.js';

export const MATRIX_KINDS = ['all', 'one-off', 'cumulative'] as const;

/**
 * - all: every subset of the plugins (2^n configurations);
 * - one-off: all plugins, then all plugins with one switched off, for each plugin (leave-one-out);
 * - cumulative: the plugins added one at a time in the order given (a, a+b, a+b+c);
 * - "a;a+b;…": exactly these (`baseline` or an empty entry names the baseline).
 */
export function configurationMatrix(matrix: string, plugins: readonly PluginRef[]): PluginRef[][] {
  let configurations: PluginRef[][];
  if (matrix === 'all') {
    configurations = [];
    for (let mask = 0; mask < 1 << plugins.length; mask++) configurations.push(plugins.filter((_, i) => mask & (1 << i)));
    configurations.sort((a, b) => a.length - b.length);
  } else if (matrix === 'one-off') {
    configurations = [[...plugins], ...(plugins.length > 1 ? plugins.map((off) => plugins.filter((name) => name !== off)) : [])];
  } else if (matrix === 'cumulative') {
    configurations = plugins.map((_, i) => plugins.slice(0, i + 1));
  } else {
    configurations = matrix.split(';').map((entry) => parseConfiguration(entry.trim()));
  }
  return uniqueWithBaselineFirst(configurations);
}

function parseConfiguration(entry: string): PluginRef[] {
  if (entry === '' || entry === 'baseline') return [];
  return entry.split('+').map((name) => {
    const trimmed = name.trim();
    if (!isPluginRef(trimmed)) throw new Error(`${unknownPluginMessage(trimmed)} (in --matrix entry '${entry}')`);
    return trimmed;
  });
}

function uniqueWithBaselineFirst(configurations: PluginRef[][]): PluginRef[][] {
  const seen = new Set<string>(['']);
  const result: PluginRef[][] = [[]];
  for (const configuration of configurations) {
    const key = configuration.join('+');
    if (new Set(configuration).size !== configuration.length) throw new Error(`configuration '${key}' names a plugin twice`);
    if (!seen.has(key)) {
      seen.add(key);
      result.push(configuration);
    }
  }
  return result;
}
