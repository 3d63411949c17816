import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

describe('backoffDelay (full jitter, 0.5 s to 20 s)', () => {
  it('stays within [0.5 s, min(20 s, 0.5 s + 0.5 s × 2^step)]', () => {
    for (let step = 0; step < 40; step++) {
      const top = Math.min(20_000, 500 + 500 * 2 ** Math.min(step, 31));
      for (const r of [0, 0.3, 0.7, 0.999999]) {
        const d = backoffDelay(step, 500, 20_000, () => r);
        expect(d).toBeGreaterThanOrEqual(500);
        expect(d).toBeLessThanOrEqual(top);
      }
      expect(backoffDelay(step, 500, 20_000, () => 0)).toBe(500);
    }
    expect(backoffDelay(100, 500, 20_000, () => 0.999999)).toBe(20_000);
  });

  it('spreads clients out: delays drawn with Math.random cover the window', () => {
    const ds = Array.from({ length: 2000 }, () => backoffDelay(4));
    expect(Math.min(...ds)).toBeLessThan(1500);
    expect(Math.max(...ds)).toBeGreaterThan(7000);
  });
});
