import { z } from 'zod';

/** Protocol version spoken by this server. */
export const PROTOCOL_VERSION = 1;

export const CHAT_ID_RE = /^[A-Za-z0-9_-]{16,64}$/;
export const CLIENT_MSG_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

export const FINISH_REASONS = ['stop', 'stopped', 'max_tokens', 'safety', 'other'] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

export const MESSAGE_STATUSES = ['complete', 'stopped', 'interrupted', 'error'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface Message {
  id: string;
  role: 'user' | 'model';
  text: string;
  /** ms since epoch */
  createdAt: number;
  status: MessageStatus;
}

/** A turn streaming right now, as `history.turn` shows it. */
export interface Turn {
  turnId: string;
  replyTo: string;
  replaces: string | null;
  text: string;
  seq: number;
}

// ---- client → server -------------------------------------------------------------

// Shapes only; the formats of ids and the text length are checked afterwards so that
// they get their own codes (invalid_chat_id, too_long) rather than bad_request.
const chatId = z.string();
const clientMsgId = z.string();

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), protocol: z.number(), token: z.string().optional() }),
  z.object({ type: z.literal('join'), chatId }),
  z.object({ type: z.literal('leave'), chatId }),
  z.object({ type: z.literal('send'), chatId, clientMsgId, text: z.string() }),
  z.object({ type: z.literal('stop'), chatId }),
  z.object({ type: z.literal('regenerate'), chatId, clientMsgId }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ClientFrameType = ClientFrame['type'];
export const CLIENT_FRAME_TYPES: readonly string[] = clientFrameSchema.options.map(
  (o) => o.shape.type.value,
);

/** The original plan's frame: `{chatId, message}` with no `type`. */
export const legacyFrameSchema = z.object({ chatId, message: z.string() });
export type LegacyFrame = z.infer<typeof legacyFrameSchema>;

// ---- server → client -------------------------------------------------------------

export interface WelcomeFrame {
  type: 'welcome';
  protocol: typeof PROTOCOL_VERSION;
  serverId: string;
  model: string;
  limits: { maxMessageChars: number; maxFrameBytes: number };
}
export interface HistoryFrame {
  type: 'history';
  chatId: string;
  messages: Message[];
  turn: Turn | null;
  truncated: boolean;
}
export interface AckFrame {
  type: 'ack';
  chatId: string;
  clientMsgId: string;
  messageId: string;
  duplicate: boolean;
}
export interface StartFrame {
  type: 'start';
  chatId: string;
  turnId: string;
  replyTo: string;
  replaces: string | null;
}
export interface DeltaFrame {
  type: 'delta';
  chatId: string;
  turnId: string;
  seq: number;
  text: string;
}
export interface DoneFrame {
  type: 'done';
  chatId: string;
  turnId: string;
  messageId: string;
  reply: string;
  finishReason: FinishReason;
}
export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  retryable: boolean;
  chatId?: string;
  turnId?: string;
  clientMsgId?: string;
  messageId?: string;
  retryAfterMs?: number;
}

/** The frames of a turn that every socket joined to the chat sees. */
export type LiveFrame = StartFrame | DeltaFrame | DoneFrame | ErrorFrame;
export type ServerFrame = WelcomeFrame | HistoryFrame | AckFrame | LiveFrame;

/** Code points, as the protocol counts characters. */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
