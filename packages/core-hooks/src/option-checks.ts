import { checkOptionNames, optionError } from './plugin-options.js';

/** An interval of numbers as written in messages: `(0, 1]`, `[0, 1)`, … */
export type Interval = `${'(' | '['}${number}, ${number}${')' | ']'}`;

/**
 * The checks every plugin makes of its options, with messages of one shape
 * ("<scope>: option <name> must be <what is allowed>, got <value>"): one helper instead of a fail /
 * inRange pair per plugin.
 */
export interface OptionChecks {
  fail(option: string, value: unknown, allowed: string): never;
  /** Refuses options that are not an object, and names that are not among `known`. */
  names(options: unknown, known: readonly string[]): asserts options is object;
  /** An integer ≥ `min`; `note` is added to the message ("an integer ≥ 1 (milliseconds)"). */
  integer(option: string, value: unknown, min: number, note?: string): void;
  /** A finite number inside `interval`. */
  inInterval(option: string, value: unknown, interval: Interval): void;
  /** One of the given strings. */
  oneOf(option: string, value: unknown, allowed: readonly string[]): void;
  boolean(option: string, value: unknown): void;
}

export function optionChecks(scope: string): OptionChecks {
  const fail = (option: string, value: unknown, allowed: string): never => optionError(scope, option, value, allowed);
  return {
    fail,
    names: (options, known) => checkOptionNames(scope, options, known),
    integer(option, value, min, note = '') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(option, value, `an integer ≥ ${min}${note ? ` ${note}` : ''}`);
    },
    inInterval(option, value, interval) {
      const [, open, low, high, close] = /^([([])(-?[\d.e+-]+), (-?[\d.e+-]+)([)\]])$/.exec(interval)!;
      const [lo, hi] = [Number(low), Number(high)];
      const inside =
        typeof value === 'number' && Number.isFinite(value) && (open === '(' ? value > lo : value >= lo) && (close === ')' ? value < hi : value <= hi);
      if (!inside) fail(option, value, `a number in ${interval}`);
    },
    oneOf(option, value, allowed) {
      if (!allowed.includes(value as string)) {
        const quoted = allowed.map((name) => `'${name}'`);
        fail(option, value, quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : quoted[0]!);
      }
    },
    boolean(option, value) {
      if (typeof value !== 'boolean') fail(option, value, 'true or false');
    },
  };
}
