import { describeValue } from './argument-checks.js';

// Every plugin validates its options once, with messages of one shape:
// "<scope>: option <name> must be <what is allowed>, got <value>".

export function optionError(scope: string, option: string, value: unknown, allowed: string): never {
  throw new Error(`${scope}: option ${option} must be ${allowed}, got ${describeValue(value)}`);
}

/** Refuses options that are not an object, and names that are not among `known`. */
export function checkOptionNames(scope: string, options: unknown, known: readonly string[]): asserts options is object {
  if (options === null || typeof options !== 'object') optionError(scope, 'object', options, 'an object of options');
  for (const key of Object.keys(options)) if (!known.includes(key)) optionError(scope, key, key, `one of ${known.join(', ')}`);
}
