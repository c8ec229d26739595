// How the CLI builds each plugin by name. Each plugin package is imported only when named, so the CLI
// runs with whichever plugins are installed; one that is absent, or whose options are wrong, is
// refused before anything trains.
import type * as tf from '@tensorflow/tfjs-core';
import type { TrainerPlugin } from '@trainhooks/core-hooks';
import { headOnlyPlugin } from './head-only.js';
import type { PluginName } from './plugin-names.js';

/** What the run offers every plugin besides its options. */
export interface PluginInputs {
  /** Held-out samples (the freeze plugin's probe). */
  readonly probe: tf.Tensor;
  /** Their one-hot labels. */
  readonly probeLabels?: tf.Tensor;
  readonly seed: number;
  /** Cores this run may use (its backend's thread count): a plugin with threads of its own shares them out. */
  readonly threads: number;
}

/** A plugin in a run, with what the report wants from it. */
export interface PluginInstance {
  readonly plugin: TrainerPlugin;
  /** The plugin's own report (freeze, grad-prune) or statistics (act-cache), plain data. */
  report(): unknown;
}

interface PluginEntry {
  readonly packageName: string;
  /** Throws on unknown option names or bad values (the plugin's own check), without a trainer. */
  validate(options: Record<string, unknown>): Promise<void>;
  create(options: Record<string, unknown>, inputs: PluginInputs): Promise<PluginInstance>;
}

export const PLUGIN_REGISTRY: Record<PluginName, PluginEntry> = {
  'head-only': {
    packageName: '@trainhooks/cli',
    validate: async (options) => void headOnlyPlugin(options),
    create: async (options) => {
      const plugin = headOnlyPlugin(options);
      return { plugin, report: () => plugin.report() };
    },
  },
  freeze: {
    packageName: '@trainhooks/plugin-freeze',
    validate: async (options) => void (await import('@trainhooks/plugin-freeze')).resolveFreezeOptions(options),
    create: async (options, { probe, probeLabels }) => {
      const { freezePlugin } = await import('@trainhooks/plugin-freeze');
      const plugin = freezePlugin({ probe, probeLabels: probeLabels ?? null, ...options });
      return { plugin, report: () => plugin.report() };
    },
  },
  'act-cache': {
    packageName: '@trainhooks/plugin-act-cache',
    // The CLI's data has no random augmentation: a sample's input to the frozen prefix never changes.
    validate: async (options) => void (await import('@trainhooks/plugin-act-cache')).resolveActCacheOptions({ deterministicInputs: true, ...options }),
    create: async (options) => {
      const { actCachePlugin } = await import('@trainhooks/plugin-act-cache');
      const plugin = actCachePlugin({ deterministicInputs: true, ...options });
      return { plugin, report: () => plugin.stats() };
    },
  },
  'grad-prune': {
    packageName: '@trainhooks/plugin-grad-prune',
    validate: async (options) => void (await import('@trainhooks/plugin-grad-prune')).resolveGradPruneOptions(options),
    create: async (options, { seed }) => {
      const { gradPrunePlugin } = await import('@trainhooks/plugin-grad-prune');
      const plugin = gradPrunePlugin({ seed, ...options });
      return { plugin, report: () => plugin.report() };
    },
  },
  pipeline: {
    packageName: '@trainhooks/plugin-pipeline',
    validate: async (options) => void (await import('@trainhooks/plugin-pipeline')).resolvePipelineOptions(options),
    create: async (options, { threads }) => {
      const { pipelinePlugin, resolvePipelineOptions } = await import('@trainhooks/plugin-pipeline');
      // The stages share the run's cores (not the machine's: --parallel runs sit beside this one).
      const stages = resolvePipelineOptions(options).stages;
      const plugin = pipelinePlugin({ threadsPerStage: Math.max(1, Math.floor(threads / stages)), ...options });
      return { plugin, report: () => plugin.report() };
    },
  },
  // Created in the run's own process, which is the MPI rank (mpirun -np N trainhooks train --plugins mpi,…).
  mpi: {
    packageName: '@trainhooks/plugin-mpi',
    validate: async (options) => void (await import('@trainhooks/plugin-mpi')).resolveMpiOptions(options),
    create: async (options) => {
      const { mpiPlugin } = await import('@trainhooks/plugin-mpi');
      const plugin = mpiPlugin(options);
      return { plugin, report: () => ({ ...plugin.stats(), options: plugin.options }) };
    },
  },
};

/** Why a plugin cannot run here (not installed, bad options), or null when it can. */
export async function pluginProblem(name: PluginName, options: Record<string, unknown> = {}): Promise<string | null> {
  const entry = PLUGIN_REGISTRY[name];
  try {
    await entry.validate(options);
    return null;
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || (error as { code?: string }).code === 'MODULE_NOT_FOUND') {
      return `plugin '${name}' needs ${entry.packageName}, which is not installed (npm install ${entry.packageName})`;
    }
    return `plugin '${name}': ${message}`;
  }
}
