export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 20_000;

/**
 * Full-jitter exponential backoff (centrifuge-js `utils.ts` `backoff`): the delay before
 * reconnect attempt `step` (0 for the first) is uniformly random in
 * `[minMs, min(maxMs, minMs + minMs × 2^step)]`, so clients dropped together by a
 * restarting server spread out instead of coming back at the same instant.
 */
export function backoffDelay(step: number, minMs = BACKOFF_MIN_MS, maxMs = BACKOFF_MAX_MS, random: () => number = Math.random): number {
  const s = Math.min(Math.max(step, 0), 31);
  const span = Math.min(maxMs - minMs, minMs * 2 ** s);
  return Math.min(maxMs, minMs + Math.floor(random() * (span + 1)));
}
