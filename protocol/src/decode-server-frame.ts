import { ErrorCodes, LLM_ERROR_DETAILS } from './error-codes.js';
import { faultyFields, isUnknownType } from './issues.js';
import { serverFrameSchema, type ServerFrame } from './server-frames.js';

export type ServerFrameResult = { ok: true; value: ServerFrame } | { ok: false; reason: string };

/**
 * Validates one frame a client received: a JSON text whose object matches one of the
 * server frames. Anything else (not text, not JSON, an unknown `type`, a wrong field) is a
 * failure with a short reason for a log: the type and the names of the wrong fields, never
 * the frame's text. An `error` frame with a code this build does not know (a newer server)
 * is kept, as `internal`, and one with an unknown `detail` is kept without it: an error is
 * never dropped.
 */
export function decodeServerFrame(data: unknown): ServerFrameResult {
  if (typeof data !== 'string') return { ok: false, reason: 'not a text frame' };
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = serverFrameSchema.safeParse(withKnownErrorDetail(withKnownErrorCode(raw)));
  if (parsed.success) return { ok: true, value: parsed.data };
  const type = typeof raw === 'object' && raw !== null && 'type' in raw && typeof raw.type === 'string' ? raw.type.slice(0, 32) : undefined;
  if (type === undefined) return { ok: false, reason: 'not an object with a string "type"' };
  if (isUnknownType(parsed.error.issues)) return { ok: false, reason: `unknown frame type "${type}"` };
  return { ok: false, reason: `wrong or missing fields in "${type}": ${faultyFields(parsed.error.issues)}` };
}

/** An `error` frame's unknown string code becomes `internal`; anything else is left as it is. */
function withKnownErrorCode(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !('type' in raw) || raw.type !== 'error') return raw;
  if (!('code' in raw) || typeof raw.code !== 'string' || Object.hasOwn(ErrorCodes, raw.code)) return raw;
  return { ...raw, code: 'internal' };
}

/** An `error` frame's unknown string `detail` is left out. */
function withKnownErrorDetail(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !('type' in raw) || raw.type !== 'error') return raw;
  if (!('detail' in raw) || typeof raw.detail !== 'string' || (LLM_ERROR_DETAILS as readonly string[]).includes(raw.detail)) return raw;
  const { detail: _unknown, ...rest } = raw;
  return rest;
}
