/** A Go duration as Compose and Traefik write them (`30s`, `1m30s`, `500ms`), in milliseconds. */
export function durationMs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|us|s|m|h)/g;
  let total = 0;
  let consumed = '';
  for (const m of text.matchAll(re)) {
    const n = Number(m[1]);
    total += n * ({ us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[m[2] as 'ms'];
    consumed += m[0];
  }
  if (consumed !== text || text === '') throw new Error(`not a duration: ${text}`);
  return total;
}
