import { describe, expect, it } from 'vitest';
import { median } from '@trainhooks/core-hooks/internal';

describe('median', () => {
  it('is the middle value, or the mean of the two middle values, without reordering its input', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('is NaN for no values', () => {
    expect(median([])).toBeNaN();
  });
});
