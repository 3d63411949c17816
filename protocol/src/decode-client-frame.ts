import { codePointLength } from './characters.js';
import { clientFrameSchema, legacyFrameSchema, type ClientFrame, type LegacyFrame } from './client-frames.js';
import type { ErrorCode } from './error-codes.js';
import { CHAT_ID_RE, CLIENT_MSG_ID_RE } from './identifiers.js';
import { faultyFields, isUnknownType } from './issues.js';

/** A valid inbound frame: a protocol v1 frame, or the original plan's `{chatId, message}`. */
export type DecodedClientFrame = { kind: 'v1'; frame: ClientFrame } | { kind: 'legacy'; frame: LegacyFrame };

/** What is known of a frame that failed: the context fields of its `error` frame. */
export interface FrameContext {
  chatId?: string;
  clientMsgId?: string;
}

/** Why an inbound frame was refused, with the code the protocol gives that mistake. */
export interface FrameFault {
  code: Extract<ErrorCode, 'bad_request' | 'invalid_chat_id' | 'too_long'>;
  message: string;
  context: FrameContext;
}

export type ClientFrameResult = { ok: true; value: DecodedClientFrame } | { ok: false; fault: FrameFault };

/**
 * Validates one inbound text frame: a JSON object, a known type, the field types, the id
 * formats and the message length (code points, after trimming). Returns the frame with
 * its text trimmed, or the fault.
 */
export function decodeClientFrame(data: string, maxMessageChars: number): ClientFrameResult {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return refuse('bad_request', 'The frame is not JSON.', {});
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return refuse('bad_request', 'The frame is not a JSON object.', {});
  }
  const obj = raw as Record<string, unknown>;
  const context: FrameContext = {};
  if (typeof obj.chatId === 'string' && CHAT_ID_RE.test(obj.chatId)) context.chatId = obj.chatId;
  if (typeof obj.clientMsgId === 'string' && CLIENT_MSG_ID_RE.test(obj.clientMsgId)) context.clientMsgId = obj.clientMsgId;
  if (hasLoneSurrogate(obj)) return refuse('bad_request', 'The frame has text that is not valid Unicode (a lone surrogate).', context);

  if (!('type' in obj) && 'message' in obj && 'chatId' in obj) {
    const legacy = legacyFrameSchema.safeParse(obj);
    if (!legacy.success) return refuse('bad_request', 'chatId and message must be strings.', context);
    if (!CHAT_ID_RE.test(legacy.data.chatId)) return refuse('invalid_chat_id', CHAT_ID_RULE, context);
    const message = legacy.data.message.trim();
    const problem = textProblem(message, maxMessageChars);
    if (problem) return refuse('too_long', problem, context);
    return { ok: true, value: { kind: 'legacy', frame: { chatId: legacy.data.chatId, message } } };
  }
  if (typeof obj.type !== 'string') return refuse('bad_request', 'The frame has no string "type".', context);
  const parsed = clientFrameSchema.safeParse(obj);
  if (!parsed.success) {
    if (isUnknownType(parsed.error.issues)) {
      return refuse('bad_request', `Unknown frame type "${obj.type.slice(0, 32)}".`, context);
    }
    return refuse('bad_request', `Wrong or missing fields in "${obj.type}": ${faultyFields(parsed.error.issues)}.`, context);
  }
  const frame = parsed.data;
  if ('chatId' in frame && !CHAT_ID_RE.test(frame.chatId)) return refuse('invalid_chat_id', CHAT_ID_RULE, context);
  if ('clientMsgId' in frame && !CLIENT_MSG_ID_RE.test(frame.clientMsgId)) {
    return refuse('invalid_chat_id', 'clientMsgId must be 8 to 64 characters of [A-Za-z0-9_-].', context);
  }
  if (frame.type !== 'send') return { ok: true, value: { kind: 'v1', frame } };
  const text = frame.text.trim();
  const problem = textProblem(text, maxMessageChars);
  if (problem) return refuse('too_long', problem, context);
  return { ok: true, value: { kind: 'v1', frame: { ...frame, text } } };
}

/** A UTF-16 surrogate not part of a pair: `\\ud800` in JSON decodes to one, and no store can keep it. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether any string of the frame (a value or a key, at any depth) holds a lone surrogate. */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  return Object.entries(value).some(([k, v]) => LONE_SURROGATE.test(k) || hasLoneSurrogate(v));
}

const CHAT_ID_RULE = 'chatId must be 16 to 64 characters of [A-Za-z0-9_-].';

function refuse(code: FrameFault['code'], message: string, context: FrameContext): ClientFrameResult {
  return { ok: false, fault: { code, message, context } };
}

/** What is wrong with a trimmed message text, if anything. */
function textProblem(text: string, max: number): string | undefined {
  if (text.length === 0) return 'The message is empty.';
  if (codePointLength(text) > max) return `The message is longer than ${max} characters.`;
  return undefined;
}
