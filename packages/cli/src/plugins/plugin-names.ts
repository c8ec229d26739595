// The plugins the CLI knows by name (--plugins), in the order they are usually stacked.
/** `head-only` is the CLI's own: the fine-tuning baseline with every unit but the head frozen from step 0. */
export const PLUGIN_NAMES = ['head-only', 'freeze', 'act-cache', 'grad-prune', 'pipeline', 'mpi'] as const;
export type PluginName = (typeof PLUGIN_NAMES)[number];

export function isPluginName(name: string): name is PluginName {
  return (PLUGIN_NAMES as readonly string[]).includes(name);
}

/**
 * Plugins that make a run faster without skipping work (more cores, more processes): a configuration
 * of these is not "skipped nothing" when its counters read zero.
 */
export const PARALLELISING_PLUGINS: readonly PluginName[] = ['pipeline', 'mpi'];

/** Plugins that send gradients between processes: only with one of these is "not communicated" a saving. */
export const COMMUNICATING_PLUGINS: readonly PluginName[] = ['mpi'];
