import { describe, expect, it } from 'vitest';
import { optionChecks } from '@trainhooks/core-hooks';

describe('optionChecks: one shape of message for every plugin', () => {
  const check = optionChecks('plugin-x');

  it('integers, with a note', () => {
    expect(() => check.integer('steps', 2, 1)).not.toThrow();
    expect(() => check.integer('steps', 0, 1)).toThrow('plugin-x: option steps must be an integer ≥ 1, got 0');
    expect(() => check.integer('ms', 1.5, 1, '(milliseconds)')).toThrow('plugin-x: option ms must be an integer ≥ 1 (milliseconds), got 1.5');
  });

  it('intervals, open and closed at either end; NaN and infinities are outside', () => {
    expect(() => check.inInterval('p', 1, '(0, 1]')).not.toThrow();
    expect(() => check.inInterval('p', 0, '[0, 1)')).not.toThrow();
    for (const [value, interval] of [[0, '(0, 1]'], [1, '[0, 1)'], [Number.NaN, '[0, 1]'], [Infinity, '(0, 1]'], ['0.5', '[0, 1]']] as const) {
      expect(() => check.inInterval('p', value, interval), `${String(value)} in ${interval}`).toThrow(`plugin-x: option p must be a number in ${interval}`);
    }
  });

  it('one of a list, booleans, and unknown names', () => {
    expect(() => check.oneOf('mode', 'b', ['a', 'b', 'c'])).not.toThrow();
    expect(() => check.oneOf('mode', 'd', ['a', 'b', 'c'])).toThrow("plugin-x: option mode must be 'a', 'b' or 'c'");
    expect(() => check.boolean('keep', 1)).toThrow('plugin-x: option keep must be true or false, got 1');
    expect(() => check.names({ kep: true }, ['keep'])).toThrow(/plugin-x: option kep must be one of keep/);
  });
});
