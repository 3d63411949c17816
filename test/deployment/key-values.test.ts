import { describe, expect, it } from 'vitest';
import { keyValues } from './key-values.js';

describe('keyValues', () => {
  it('reads a list of K=V, a bare K as unset, and splits at the first =', () => {
    expect([...keyValues(['A=1', 'B', 'C=x=y'])]).toEqual([
      ['A', '1'],
      ['B', undefined],
      ['C', 'x=y'],
    ]);
  });

  it('reads a map, null as unset and other values as strings', () => {
    expect([...keyValues({ A: 1, B: null, C: true })]).toEqual([
      ['A', '1'],
      ['B', undefined],
      ['C', 'true'],
    ]);
  });

  it('is empty for anything else', () => {
    expect(keyValues(undefined).size).toBe(0);
    expect(keyValues('A=1').size).toBe(0);
  });
});
