import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { configurationLabel, configurationMatrix, DEFAULT_RUN_SPEC, planJobs, threadsPerRun, type PluginName } from '@trainhooks/cli/internal';

const labels = (matrix: string, plugins: readonly PluginName[] = ['freeze', 'act-cache', 'grad-prune']) => configurationMatrix(matrix, plugins).map(configurationLabel);

describe('configurationMatrix', () => {
  it('cumulative adds the plugins one at a time after the baseline', () => {
    expect(labels('cumulative')).toEqual(['baseline', 'freeze', 'freeze+act-cache', 'freeze+act-cache+grad-prune']);
  });
  it('all is every subset, smallest first', () => {
    const all = labels('all');
    expect(all).toHaveLength(8);
    expect(all[0]).toBe('baseline');
    expect(all.at(-1)).toBe('freeze+act-cache+grad-prune');
    expect(new Set(all).size).toBe(8);
  });
  it('one-off is all plugins, then each one switched off', () => {
    expect(labels('one-off')).toEqual(['baseline', 'freeze+act-cache+grad-prune', 'act-cache+grad-prune', 'freeze+grad-prune', 'freeze+act-cache']);
  });
  it('an explicit list keeps its order, adds the baseline first and drops repeats', () => {
    expect(labels('freeze+act-cache;freeze;baseline;freeze', [])).toEqual(['baseline', 'freeze+act-cache', 'freeze']);
  });
  it('refuses a plugin named twice in one configuration', () => {
    expect(() => labels('freeze+freeze', [])).toThrow(/names a plugin twice/);
  });
});

describe('planJobs', () => {
  it('interleaves seeds across configurations and rotates which configuration goes first', () => {
    const base = { ...DEFAULT_RUN_SPEC, learningRate: 0.001 };
    const jobs = planJobs({ base, configurations: [[], ['freeze'], ['freeze', 'act-cache']], seeds: [1, 2], parallel: 1 });
    expect(jobs.map((job) => `${job.configuration}@${job.seed}`)).toEqual([
      'baseline@1', 'freeze@1', 'freeze+act-cache@1',
      'freeze@2', 'freeze+act-cache@2', 'baseline@2',
    ]);
    expect(jobs.every((job) => job.spec.seed === job.seed && configurationLabel(job.spec.plugins) === job.configuration)).toBe(true);
  });

  it('shares the cores out among runs that go side by side, unless threads are given', () => {
    const base = { ...DEFAULT_RUN_SPEC, learningRate: 0.001 };
    expect(threadsPerRun({ base, parallel: 1 })).toBe(availableParallelism());
    expect(threadsPerRun({ base, parallel: 2 })).toBe(Math.max(1, Math.floor(availableParallelism() / 2)));
    expect(threadsPerRun({ base, parallel: 64 })).toBe(1);
    expect(threadsPerRun({ base: { ...base, threads: 3 }, parallel: 2 })).toBe(3);
    const jobs = planJobs({ base, configurations: [[]], seeds: [1], parallel: 2 });
    expect(jobs[0]!.spec.threads).toBe(threadsPerRun({ base, parallel: 2 }));
  });
});
