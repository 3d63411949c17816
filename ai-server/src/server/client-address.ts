import type { IncomingMessage } from 'node:http';

/**
 * The client's address: the socket's peer, or with `trustProxy` hops the address the
 * outermost trusted proxy saw, i.e. the `trustProxy`-th `X-Forwarded-For` entry from the
 * right (each proxy appends the address it received from). Entries further left were
 * written by the client itself and are never used; with fewer entries than hops, the
 * leftmost one is taken.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = normalize(req.socket.remoteAddress ?? 'unknown');
  if (trustProxy <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) return peer;
  const chosen = entries[Math.max(0, entries.length - trustProxy)] ?? peer;
  return normalize(chosen);
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are the same client. */
function normalize(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
