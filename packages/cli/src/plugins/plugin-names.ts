// The plugins the CLI knows by name (--plugins), in the order they are usually stacked — and plugins
// of your own, named by their module's path.
/** `head-only` is the CLI's own: the fine-tuning baseline with every unit but the head frozen from step 0. */
export const PLUGIN_NAMES = ['head-only', 'freeze', 'act-cache', 'grad-prune', 'pipeline', 'mpi'] as const;
export type PluginName = (typeof PLUGIN_NAMES)[number];

/**
 * What --plugins, --matrix and --plugin-options accept: a built-in name, or the path of a module of
 * your own (starting with ./, ../ or /; it holds no '+', ',' or ';') whose default export makes the plugin.
 */
export type PluginRef = PluginName | (string & {});

export function isPluginName(name: string): name is PluginName {
  return (PLUGIN_NAMES as readonly string[]).includes(name);
}

export function isModulePluginRef(ref: string): boolean {
  return /^(\.{1,2}\/|\/)/.test(ref) && !/[+,;]/.test(ref);
}

export function isPluginRef(ref: string): ref is PluginRef {
  return isPluginName(ref) || isModulePluginRef(ref);
}

/** The message for a name that is neither built in nor a module path. */
export function unknownPluginMessage(ref: string): string {
  return `unknown plugin '${ref}'; choose from ${PLUGIN_NAMES.join(', ')}, or name a module of your own by its path (./my-plugin.js)`;
}
