// The plugins the CLI knows by name (--plugins), in the order they are usually stacked.
/** `head-only` is the CLI's own: the fine-tuning baseline with every unit but the head frozen from step 0. */
export const PLUGIN_NAMES = ['head-only', 'freeze', 'act-cache', 'grad-prune', 'pipeline', 'mpi'] as const;
export type PluginName = (typeof PLUGIN_NAMES)[number];

export function isPluginName(name: string): name is PluginName {
  return (PLUGIN_NAMES as readonly string[]).includes(name);
}
