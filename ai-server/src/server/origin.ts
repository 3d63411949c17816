import type { IncomingMessage } from 'node:http';

export interface OriginPolicy {
  allowedOrigins: readonly string[] | undefined;
  trustProxy: number;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const first = v?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}

/**
 * Whether a socket may be opened from the request's Origin. No Origin (a non-browser
 * client): allowed. `ALLOWED_ORIGINS` set: exactly those (or `*`). Unset, in every mode:
 * the Origin's host (with port) must be the request's own (or the proxy's forwarded host),
 * so no other site can open a socket from a visitor's browser.
 */
export function originAllowed(req: IncomingMessage, policy: OriginPolicy): boolean {
  const origin = firstHeader(req.headers.origin);
  if (!origin) return true;
  if (policy.allowedOrigins) {
    const wanted = origin.replace(/\/+$/, '').toLowerCase();
    return policy.allowedOrigins.some((o) => o === '*' || o.toLowerCase() === wanted);
  }
  const host = (policy.trustProxy > 0 ? firstHeader(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host;
  try {
    return new URL(origin).host === host?.toLowerCase();
  } catch {
    return false;
  }
}
