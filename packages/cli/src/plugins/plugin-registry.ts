// How the CLI builds each plugin: built-in names map to factories (each plugin package imported only
// when named, so the CLI runs with whichever plugins are installed); a module path names a plugin of
// your own. A plugin that is absent, or whose options are wrong, is refused before anything trains.
// Reports read plugins only through TrainerPlugin (report(), describe()): no plugin needs glue here.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as tf from '@tensorflow/tfjs-core';
import type { TrainerPlugin } from '@trainhooks/core-hooks';
import { headOnlyPlugin } from './head-only.js';
import { isPluginName, unknownPluginMessage, type PluginName, type PluginRef } from './plugin-names.js';

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

/**
 * Makes a plugin from its options and the run's inputs. A plugin module of your own default-exports
 * one: `export default (options, { probe, seed, threads }) => myPlugin(options)`.
 */
export type PluginFactory = (options: Record<string, unknown>, inputs: PluginInputs) => TrainerPlugin | Promise<TrainerPlugin>;

interface BuiltInPlugin {
  readonly packageName: string;
  /** Throws on unknown option names or bad values (the plugin's own check), without a trainer. */
  validate(options: Record<string, unknown>): Promise<void>;
  readonly create: PluginFactory;
}

export const PLUGIN_REGISTRY: Record<PluginName, BuiltInPlugin> = {
  'head-only': {
    packageName: '@trainhooks/cli',
    validate: async (options) => void headOnlyPlugin(options),
    create: (options) => headOnlyPlugin(options),
  },
  freeze: {
    packageName: '@trainhooks/plugin-freeze',
    validate: async (options) => void (await import('@trainhooks/plugin-freeze')).resolveFreezeOptions(options),
    create: async (options, { probe, probeLabels }) => (await import('@trainhooks/plugin-freeze')).freezePlugin({ probe, probeLabels: probeLabels ?? null, ...options }),
  },
  'act-cache': {
    packageName: '@trainhooks/plugin-act-cache',
    // The CLI's data has no random augmentation: a sample's input to the frozen prefix never changes.
    validate: async (options) => void (await import('@trainhooks/plugin-act-cache')).resolveActCacheOptions({ deterministicInputs: true, ...options }),
    create: async (options) => (await import('@trainhooks/plugin-act-cache')).actCachePlugin({ deterministicInputs: true, ...options }),
  },
  'grad-prune': {
    packageName: '@trainhooks/plugin-grad-prune',
    validate: async (options) => void (await import('@trainhooks/plugin-grad-prune')).resolveGradPruneOptions(options),
    create: async (options, { seed }) => (await import('@trainhooks/plugin-grad-prune')).gradPrunePlugin({ seed, ...options }),
  },
  pipeline: {
    packageName: '@trainhooks/plugin-pipeline',
    validate: async (options) => void (await import('@trainhooks/plugin-pipeline')).resolvePipelineOptions(options),
    create: async (options, { threads }) => {
      const { pipelinePlugin, resolvePipelineOptions } = await import('@trainhooks/plugin-pipeline');
      // The stages share the run's cores (not the machine's: --parallel runs sit beside this one).
      const stages = resolvePipelineOptions(options).stages;
      return pipelinePlugin({ threadsPerStage: Math.max(1, Math.floor(threads / stages)), ...options });
    },
  },
  // Created in the run's own process, which is the MPI rank (mpirun -np N trainhooks train --plugins mpi,…).
  mpi: {
    packageName: '@trainhooks/plugin-mpi',
    validate: async (options) => void (await import('@trainhooks/plugin-mpi')).resolveMpiOptions(options),
    create: async (options) => (await import('@trainhooks/plugin-mpi')).mpiPlugin(options),
  },
};

/** A plugin module's factory: its default export, resolved against the working directory. */
async function moduleFactory(ref: string): Promise<PluginFactory> {
  const loaded = (await import(pathToFileURL(resolve(ref)).href)) as { default?: unknown };
  if (typeof loaded.default !== 'function') {
    throw new Error(`plugin module ${ref} must default-export a function (options, inputs) => plugin`);
  }
  return loaded.default as PluginFactory;
}

/** The plugin a reference names, made with its options; checked to be a plugin. */
export async function createPlugin(ref: PluginRef, options: Record<string, unknown>, inputs: PluginInputs): Promise<TrainerPlugin> {
  const factory = isPluginName(ref) ? PLUGIN_REGISTRY[ref].create : await moduleFactory(ref);
  const plugin = await factory(options, inputs);
  if (plugin === null || typeof plugin !== 'object' || typeof (plugin as TrainerPlugin).apply !== 'function') {
    throw new Error(`plugin '${ref}' made ${String(plugin)}, not a plugin (an object with apply(trainer))`);
  }
  return plugin;
}

/** Why a plugin cannot run here (not installed, bad options, not a plugin module), or null when it can. */
export async function pluginProblem(ref: PluginRef, options: Record<string, unknown> = {}): Promise<string | null> {
  if (!isPluginName(ref)) {
    try {
      await moduleFactory(ref);
      return null;
    } catch (error) {
      if (isModuleNotFound(error)) return `${unknownPluginMessage(ref)}: no module at ${resolve(ref)}`;
      return `plugin '${ref}': ${(error as Error).message}`;
    }
  }
  const entry = PLUGIN_REGISTRY[ref];
  try {
    await entry.validate(options);
    return null;
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (isModuleNotFound(error)) {
      return `plugin '${ref}' needs ${entry.packageName}, which is not installed (npm install ${entry.packageName})`;
    }
    return `plugin '${ref}': ${message}`;
  }
}

/** An import that failed because the module (or a package it needs) is not there, in ESM or CJS. */
function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
