/**
 * The wire protocol v1, as the page speaks it (the contract: ../shared/protocol.md).
 * Types only mirror the frames; the server's own definitions live in ai-server, which
 * the page does not import (two workspaces, two runtimes).
 */

export const PROTOCOL_VERSION = 1;

export const ID_RE = /^[A-Za-z0-9_-]+$/;
/** `chatId`: 16 to 64 characters of `[A-Za-z0-9_-]`. */
export function isValidChatId(id: string): boolean {
  return id.length >= 16 && id.length <= 64 && ID_RE.test(id);
}

export type FinishReason = 'stop' | 'stopped' | 'max_tokens' | 'safety' | 'other';
export type MessageStatus = 'complete' | 'stopped' | 'interrupted' | 'error';

export interface WireMessage {
  id: string;
  role: 'user' | 'model';
  text: string;
  createdAt: number;
  status: MessageStatus;
}

export interface WireTurn {
  turnId: string;
  replyTo: string;
  replaces: string | null;
  text: string;
  seq: number;
}

// ---- client → server ----

export interface HelloFrame {
  type: 'hello';
  protocol: typeof PROTOCOL_VERSION;
  token?: string;
}
export interface JoinFrame {
  type: 'join';
  chatId: string;
}
export interface LeaveFrame {
  type: 'leave';
  chatId: string;
}
export interface SendFrame {
  type: 'send';
  chatId: string;
  clientMsgId: string;
  text: string;
}
export interface StopFrame {
  type: 'stop';
  chatId: string;
}
export interface RegenerateFrame {
  type: 'regenerate';
  chatId: string;
  clientMsgId: string;
}
/** The two frames made idempotent by their `clientMsgId`: safe to send again after a reconnect. */
export type IdempotentFrame = SendFrame | RegenerateFrame;
export type ClientFrame = HelloFrame | JoinFrame | LeaveFrame | SendFrame | StopFrame | RegenerateFrame;

// ---- server → client ----

export interface Limits {
  maxMessageChars: number;
  maxFrameBytes: number;
}
export interface WelcomeFrame {
  type: 'welcome';
  protocol: number;
  serverId: string;
  model: string;
  limits: Limits;
}
export interface HistoryFrame {
  type: 'history';
  chatId: string;
  messages: WireMessage[];
  turn: WireTurn | null;
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

/** Frames that belong to one chat (everything but `welcome`; `error` only when it names a chat). */
export type ChatFrame = HistoryFrame | AckFrame | StartFrame | DeltaFrame | DoneFrame | ErrorFrame;
export type ServerFrame = WelcomeFrame | ChatFrame;

const SERVER_TYPES = new Set(['welcome', 'history', 'ack', 'start', 'delta', 'done', 'error']);

/**
 * Parses one text frame. Returns null for anything that is not a JSON object with a
 * known `type` (a newer server may add frame types: the page ignores them).
 */
export function parseServerFrame(data: unknown): ServerFrame | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !SERVER_TYPES.has(type)) return null;
  return value as ServerFrame;
}

/** Code points, as the protocol counts characters (`[...text].length`). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The UTF-8 size of a string in bytes (what the server's frame cap counts), without encoding it. */
export function utf8ByteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
