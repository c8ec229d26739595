// The plugins the CLI knows by name (--plugins), in the order they are usually stacked.
export const PLUGIN_NAMES = ['freeze', 'act-cache', 'grad-prune', 'pipeline', 'mpi'] as const;
export type PluginName = (typeof PLUGIN_NAMES)[number];

export function isPluginName(name: string): name is PluginName {
  return (PLUGIN_NAMES as readonly string[]).includes(name);
}
