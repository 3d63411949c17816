import { AppError } from '../errors.js';
import {
  CHAT_ID_RE,
  CLIENT_MSG_ID_RE,
  CLIENT_FRAME_TYPES,
  clientFrameSchema,
  codePointLength,
  legacyFrameSchema,
  type ClientFrame,
  type LegacyFrame,
} from './frames.js';

export type ParsedFrame = { kind: 'v1'; frame: ClientFrame } | { kind: 'legacy'; frame: LegacyFrame };

/** What is known of a frame that failed, for the error frame's context fields. */
export interface FrameContext {
  chatId?: string;
  clientMsgId?: string;
}

export class FrameError extends AppError {
  constructor(
    code: 'bad_request' | 'invalid_chat_id' | 'too_long',
    message: string,
    readonly context: FrameContext = {},
  ) {
    super(code, message);
  }
}

/**
 * Validates one inbound text frame: JSON object, known type, field types, id formats and
 * the message length (code points, after trimming). Throws `FrameError` with the code the
 * protocol gives each mistake. Returns the frame with `text` trimmed.
 */
export function parseClientFrame(data: string, maxMessageChars: number): ParsedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    throw new FrameError('bad_request', 'The frame is not JSON.');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FrameError('bad_request', 'The frame is not a JSON object.');
  }
  const obj = raw as Record<string, unknown>;
  const context: FrameContext = {};
  if (typeof obj.chatId === 'string' && CHAT_ID_RE.test(obj.chatId)) context.chatId = obj.chatId;
  if (typeof obj.clientMsgId === 'string' && CLIENT_MSG_ID_RE.test(obj.clientMsgId)) context.clientMsgId = obj.clientMsgId;

  if (!('type' in obj) && 'message' in obj && 'chatId' in obj) {
    const legacy = legacyFrameSchema.safeParse(obj);
    if (!legacy.success) throw new FrameError('bad_request', 'chatId and message must be strings.', context);
    checkChatId(legacy.data.chatId, context);
    const message = checkText(legacy.data.message, maxMessageChars, context);
    return { kind: 'legacy', frame: { chatId: legacy.data.chatId, message } };
  }
  if (typeof obj.type !== 'string') throw new FrameError('bad_request', 'The frame has no string "type".', context);
  if (!CLIENT_FRAME_TYPES.includes(obj.type)) {
    throw new FrameError('bad_request', `Unknown frame type "${obj.type.slice(0, 32)}".`, context);
  }
  const parsed = clientFrameSchema.safeParse(obj);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new FrameError('bad_request', `Wrong or missing fields in "${obj.type}": ${fields}.`, context);
  }
  const frame = parsed.data;
  if ('chatId' in frame) checkChatId(frame.chatId, context);
  if ('clientMsgId' in frame && !CLIENT_MSG_ID_RE.test(frame.clientMsgId)) {
    throw new FrameError('invalid_chat_id', 'clientMsgId must be 8 to 64 characters of [A-Za-z0-9_-].', context);
  }
  if (frame.type === 'send') return { kind: 'v1', frame: { ...frame, text: checkText(frame.text, maxMessageChars, context) } };
  return { kind: 'v1', frame };
}

function checkChatId(chatId: string, context: FrameContext): void {
  if (!CHAT_ID_RE.test(chatId)) {
    throw new FrameError('invalid_chat_id', 'chatId must be 16 to 64 characters of [A-Za-z0-9_-].', context);
  }
}

function checkText(text: string, max: number, context: FrameContext): string {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new FrameError('too_long', 'The message is empty.', context);
  if (codePointLength(trimmed) > max) {
    throw new FrameError('too_long', `The message is longer than ${max} characters.`, context);
  }
  return trimmed;
}
