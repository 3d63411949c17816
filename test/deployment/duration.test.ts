import { describe, expect, it } from 'vitest';
import { durationMs } from './duration.js';

describe('durationMs', () => {
  it('adds up the units of a Go duration', () => {
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('1h')).toBe(3_600_000);
    expect(durationMs('1.5s')).toBe(1500);
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('500us')).toBe(0.5);
  });

  it('refuses anything that is not wholly a duration', () => {
    for (const bad of ['', '30', '30 s', 's', '10x', '5s!']) expect(() => durationMs(bad), bad).toThrow('not a duration');
  });
});
