/**
 * Rate limits as a generic cell rate algorithm (GCRA): a bucket of `burst` tokens that
 * refills one token every `intervalMs`. The state of a key is one number, its theoretical
 * arrival time (TAT, ms); the Redis store keeps it under one key and updates it in one
 * script (rate-limit-lua.ts), the embedded store in memory (`MemoryRateLimiter`), with the
 * same arithmetic.
 */
export interface RateRule {
  /** One token comes back every this many ms (a whole number). */
  intervalMs: number;
  /** Tokens available at once (at least 1). */
  burst: number;
}

/** 0: allowed (a token was taken); otherwise refused, with the ms until a token is back. */
export type RetryAfterMs = number;

/** One step of GCRA: the new TAT when allowed, or how long to wait. */
export function gcra(tat: number, now: number, rule: RateRule): { retryAfterMs: RetryAfterMs; tat: number } {
  const next = Math.max(tat, now) + rule.intervalMs;
  const over = next - now - rule.intervalMs * rule.burst;
  return over > 0 ? { retryAfterMs: over, tat } : { retryAfterMs: 0, tat: next };
}

/** Keys kept before expired ones are swept (an expired key is the same as no key). */
const SWEEP_AT = 10_000;

/** GCRA in this process, for the embedded store (one replica only). */
export class MemoryRateLimiter {
  private readonly tats = new Map<string, number>();

  take(key: string, rule: RateRule, now: number = Date.now()): RetryAfterMs {
    const step = gcra(this.tats.get(key) ?? 0, now, rule);
    if (step.retryAfterMs === 0) {
      if (this.tats.size >= SWEEP_AT && !this.tats.has(key)) this.sweep(now);
      this.tats.set(key, step.tat);
    }
    return step.retryAfterMs;
  }

  private sweep(now: number): void {
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
  }
}
