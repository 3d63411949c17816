/**
 * The conversation as the page shows it, and the pure reducer that merges the server's
 * frames into it (protocol.md, "Server to client" and "Turn"):
 *
 * - `history` replaces the stored messages and the streaming turn with the snapshot;
 *   deltas then continue from `turn.seq` (a `seq` already had is ignored, a gap asks
 *   for a fresh snapshot: no gap, no duplicate).
 * - A `start` for the same `replyTo` with a new `turnId` is a takeover: the old partial
 *   text is dropped, and late frames of the old turn are ignored.
 * - `done` stores the model message (in place of the one a `regenerate` replaces).
 * - An `error` names what failed: a message not yet acked (`clientMsgId`), a turn
 *   (`turnId`, with the `messageId` of the failed message it stored), or the chat.
 * - A `start` answering a message this page never saw (another tab sent it) asks for a
 *   fresh snapshot, so the question shows with its answer.
 *
 * No I/O here: the session (chat-session.ts) feeds frames in and reads `resync`.
 */
import type { ErrorCode, ErrorFrame, FinishReason, MessageStatus, Message as WireMessage } from '@ai-chat/protocol';
import type { ChatFrame } from './protocol';

export interface ChatMessage {
  id: string;
  role: 'user' | 'model';
  text: string;
  status: MessageStatus;
  createdAt: number;
  /** The code that ended this answer, when seen live (a stored message keeps only its status). */
  errorCode?: ErrorCode;
  finishReason?: FinishReason;
}

export interface StreamingTurn {
  turnId: string;
  replyTo: string;
  replaces: string | null;
  text: string;
  seq: number;
}

export interface ChatError {
  code: ErrorCode;
  retryable: boolean;
  retryAfterMs?: number;
}

/** A user message (or a regenerate request) sent but not acked yet. */
export interface OutgoingMessage {
  clientMsgId: string;
  kind: 'send' | 'regenerate';
  /** The text of a `send` ('' for a regenerate). */
  text: string;
  createdAt: number;
  /** Set when the server refused it before its ack; null while it is on its way. */
  error: ChatError | null;
  /** When a retry makes sense again (ms since epoch), from the error's `retryAfterMs`. */
  retryAt?: number;
  /**
   * A newer message was sent after this one failed: it is shown as not sent, and not
   * retried (sent now it would land after the newer one, out of order).
   */
  superseded?: boolean;
  /**
   * A snapshot taken after a reconnect already holds a user message with this text (the
   * message was stored, its ack lost with the connection): the bubble hides until the
   * resend's `ack` (or `error`) says what happened, so the message does not show twice.
   */
  storedAs?: string;
}

/** An error not shown on a bubble: what a "retry" means for it. */
export interface ChatNotice extends ChatError {
  /** `regenerate`: the user message is stored, answer it again; `rejoin`: ask for the chat again. */
  retry: 'regenerate' | 'rejoin' | null;
}

export interface Announcement {
  key: string;
  text: string;
}

export interface ChatState {
  chatId: string;
  /** The first `history` of this chat arrived. */
  loaded: boolean;
  truncated: boolean;
  messages: readonly ChatMessage[];
  turn: StreamingTurn | null;
  outgoing: readonly OutgoingMessage[];
  /** One of our messages was acked and its turn has not started yet. */
  awaitingTurn: boolean;
  notice: ChatNotice | null;
  /** Turns replaced by a takeover: their late frames are dropped. */
  superseded: readonly string[];
  /** The state may have missed frames (a gap in the deltas, a frame of an unknown turn): join again. */
  resync: boolean;
  /** What the polite live region says (the finished answer, not every delta). */
  announcement: Announcement | null;
}

export type ChatAction =
  | { type: 'frame'; frame: ChatFrame; at: number }
  | { type: 'outgoing'; message: OutgoingMessage }
  | { type: 'retry-outgoing'; clientMsgId: string }
  | { type: 'dismiss-outgoing'; clientMsgId: string }
  | { type: 'dismiss-notice' }
  | { type: 'reset'; chatId: string };

export function initialChatState(chatId: string): ChatState {
  return {
    chatId,
    loaded: false,
    truncated: false,
    messages: [],
    turn: null,
    outgoing: [],
    awaitingTurn: false,
    notice: null,
    superseded: [],
    resync: false,
    announcement: null,
  };
}

/** True while an answer is on its way: a turn streams, or one of our messages awaits its turn. */
export function isBusy(s: ChatState): boolean {
  return s.turn !== null || s.awaitingTurn || s.outgoing.some((o) => o.error === null);
}

/** Whether "retry" on a refused message may send it again now. */
export function canRetry(o: OutgoingMessage, busy: boolean, now: number): boolean {
  if (o.error === null || !o.error.retryable || o.superseded) return false;
  return !busy && (o.retryAt === undefined || now >= o.retryAt);
}

const MAX_SUPERSEDED = 32;

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'reset':
      return initialChatState(action.chatId);
    case 'outgoing': {
      // A new message makes the older refused ones unsendable (out of order): a refused
      // send stays, shown as not sent; a refused regenerate is simply gone.
      const older: OutgoingMessage[] = [];
      for (const o of state.outgoing) {
        if (o.clientMsgId === action.message.clientMsgId) continue;
        if (o.error === null) older.push(o);
        else if (o.kind === 'send') older.push(o.superseded ? o : { ...o, superseded: true });
      }
      return { ...state, outgoing: [...older, action.message], notice: null };
    }
    case 'retry-outgoing':
      return mapOutgoing(state, action.clientMsgId, (o) => {
        const next: OutgoingMessage = { ...o, error: null };
        delete next.retryAt;
        return next;
      });
    case 'dismiss-outgoing': {
      const outgoing = state.outgoing.filter((o) => o.clientMsgId !== action.clientMsgId);
      return outgoing.length === state.outgoing.length ? state : { ...state, outgoing };
    }
    case 'dismiss-notice':
      return state.notice ? { ...state, notice: null } : state;
    case 'frame':
      if (action.frame.chatId !== undefined && action.frame.chatId !== state.chatId) return state;
      return applyFrame(state, action.frame, action.at);
  }
}

function applyFrame(state: ChatState, f: ChatFrame, at: number): ChatState {
  switch (f.type) {
    case 'history': {
      const previous = new Map(state.messages.map((m) => [m.id, m]));
      const messages = f.messages.map((m) => fromWire(m, previous.get(m.id)));
      const turn = f.turn ? { ...f.turn } : null;
      const last = messages[messages.length - 1];
      return {
        ...state,
        outgoing: state.loaded ? markStored(state.outgoing, messages, previous) : state.outgoing,
        loaded: true,
        truncated: f.truncated,
        messages,
        turn,
        // Still waiting only if the snapshot shows our message unanswered and no turn yet.
        awaitingTurn: state.awaitingTurn && turn === null && last?.role === 'user',
        notice: state.notice?.retry === 'rejoin' ? null : state.notice,
        resync: false,
      };
    }
    case 'ack': {
      const o = state.outgoing.find((x) => x.clientMsgId === f.clientMsgId);
      if (!o) return state;
      let messages = state.messages;
      if (o.kind === 'send' && !messages.some((m) => m.id === f.messageId)) {
        messages = [
          ...messages,
          { id: f.messageId, role: 'user', text: o.text, status: 'complete', createdAt: o.createdAt },
        ];
      }
      return checkReplyTo({
        ...state,
        messages,
        outgoing: state.outgoing.filter((x) => x !== o),
        awaitingTurn: state.turn === null,
        notice: null,
      });
    }
    case 'start': {
      if (state.turn?.turnId === f.turnId || state.superseded.includes(f.turnId)) return state;
      return checkReplyTo({
        ...state,
        turn: { turnId: f.turnId, replyTo: f.replyTo, replaces: f.replaces, text: '', seq: 0 },
        superseded: state.turn ? supersede(state.superseded, state.turn.turnId) : state.superseded,
        awaitingTurn: false,
        notice: null,
        announcement: { key: `start:${f.turnId}`, text: 'AI 비서가 답변을 작성하고 있습니다.' },
      });
    }
    case 'delta': {
      const turn = state.turn;
      if (turn?.turnId !== f.turnId) {
        if (state.superseded.includes(f.turnId)) return state;
        // A delta of a turn we never saw start: our picture is stale.
        return state.resync ? state : { ...state, resync: true };
      }
      if (f.seq <= turn.seq) return state; // already had it
      if (f.seq !== turn.seq + 1) return state.resync ? state : { ...state, resync: true };
      return { ...state, turn: { ...turn, text: turn.text + f.text, seq: f.seq } };
    }
    case 'done': {
      if (state.superseded.includes(f.turnId)) return state;
      // The turn this ends, when the page saw it start.
      const ended = state.turn?.turnId === f.turnId ? state.turn : null;
      const message: ChatMessage = {
        id: f.messageId,
        role: 'model',
        text: f.reply,
        status: f.finishReason === 'stopped' ? 'stopped' : 'complete',
        createdAt: at,
        finishReason: f.finishReason,
      };
      return {
        ...state,
        messages: upsertModel(state.messages, message, ended ? ended.replaces : null),
        turn: ended ? null : state.turn,
        awaitingTurn: false,
        // Without its `start` we cannot know what it replaced: ask for the stored truth.
        resync: state.resync || !ended,
        announcement: {
          key: `done:${f.turnId}`,
          text: f.finishReason === 'stopped' ? `답변이 중지되었습니다. ${f.reply}` : f.reply,
        },
      };
    }
    case 'error':
      return applyError(state, f, at);
  }
}

function applyError(state: ChatState, f: ErrorFrame, at: number): ChatState {
  const error: ChatError = { code: f.code, retryable: f.retryable };
  if (f.retryAfterMs !== undefined) error.retryAfterMs = f.retryAfterMs;

  if (f.clientMsgId !== undefined) {
    // About one of our messages, refused before its ack. One this page no longer shows
    // (dismissed, or of a chat it left) needs nothing more.
    return checkReplyTo(
      mapOutgoing(state, f.clientMsgId, (o) => {
        const next: OutgoingMessage = { ...o, error };
        delete next.retryAt;
        delete next.storedAs;
        if (f.retryAfterMs !== undefined && f.retryAfterMs > 0) next.retryAt = at + f.retryAfterMs;
        return next;
      }),
    );
  }

  if (f.turnId !== undefined) {
    if (state.superseded.includes(f.turnId)) return state;
    const turn = state.turn;
    const announcement = { key: `error:${f.turnId}`, text: `답변 중 오류가 발생했습니다.` };
    if (turn?.turnId === f.turnId) {
      if (f.messageId !== undefined) {
        const failed: ChatMessage = {
          id: f.messageId,
          role: 'model',
          text: turn.text,
          status: f.code === 'interrupted' ? 'interrupted' : 'error',
          createdAt: at,
          errorCode: f.code,
        };
        return {
          ...state,
          messages: upsertModel(state.messages, failed, null),
          turn: null,
          awaitingTurn: false,
          announcement,
        };
      }
      // A failed regenerate stores nothing: the message it would have replaced stays.
      return {
        ...state,
        turn: null,
        awaitingTurn: false,
        notice: { ...error, retry: f.retryable ? 'regenerate' : null },
        announcement,
      };
    }
    // An error of a turn we did not follow: its stored message is in the next snapshot.
    return {
      ...state,
      awaitingTurn: false,
      resync: state.resync || f.messageId !== undefined,
      notice: f.messageId !== undefined ? state.notice : { ...error, retry: f.retryable ? 'regenerate' : null },
    };
  }

  // No turn, no message: an error about the chat itself (a `join` or a `stop` that failed,
  // say with store_unavailable), or, without a chatId, about a frame. It ends no answer
  // (every turn's error names its turn), so a wait for a turn goes on; retry = join again.
  const retry = f.retryable && f.chatId !== undefined ? 'rejoin' : null;
  return { ...state, notice: { ...error, retry } };
}

/**
 * The streaming turn answers a message this page does not have (another tab of the same
 * chat sent it): ask for a snapshot. Not while one of our sends is unacked: its `ack` (or
 * refusal) comes first, and is checked again then.
 */
function checkReplyTo(state: ChatState): ChatState {
  const turn = state.turn;
  if (!turn || state.resync || !state.loaded) return state;
  if (state.messages.some((m) => m.id === turn.replyTo)) return state;
  if (state.outgoing.some((o) => o.kind === 'send' && o.error === null)) return state;
  return { ...state, resync: true };
}

/**
 * After a reconnect the snapshot may already hold a message whose ack was lost: one
 * pending send can be on its way at a time (the page sends nothing while one is), and the
 * snapshot's newest user message, new to this page and with the same text, is it.
 */
function markStored(
  outgoing: readonly OutgoingMessage[],
  messages: readonly ChatMessage[],
  previous: ReadonlyMap<string, ChatMessage>,
): readonly OutgoingMessage[] {
  let lastUser: ChatMessage | undefined;
  for (let i = messages.length - 1; i >= 0 && !lastUser; i--) {
    const m = messages[i];
    if (m?.role === 'user') lastUser = m;
  }
  if (!lastUser || previous.has(lastUser.id)) return outgoing;
  const stored = lastUser;
  const i = outgoing.findIndex((o) => o.kind === 'send' && o.error === null && o.storedAs === undefined && o.text === stored.text);
  if (i < 0) return outgoing;
  return outgoing.map((o, j) => (j === i ? { ...o, storedAs: stored.id } : o));
}

function fromWire(m: WireMessage, previous: ChatMessage | undefined): ChatMessage {
  const msg: ChatMessage = { id: m.id, role: m.role, text: m.text, status: m.status, createdAt: m.createdAt };
  // Keep the reference when nothing changed: the bubble then does not render again.
  if (
    previous?.role === msg.role &&
    previous.text === msg.text &&
    previous.status === msg.status &&
    previous.createdAt === msg.createdAt
  ) {
    return previous;
  }
  if (previous?.errorCode !== undefined && previous.status === m.status) msg.errorCode = previous.errorCode;
  return msg;
}

/** Inserts or replaces a model message: in place of its own id, else of `replaces`, else at the end. */
function upsertModel(messages: readonly ChatMessage[], msg: ChatMessage, replaces: string | null): readonly ChatMessage[] {
  let i = messages.findIndex((m) => m.id === msg.id);
  if (i < 0 && replaces !== null) i = messages.findIndex((m) => m.id === replaces);
  if (i < 0) return [...messages, msg];
  const next = messages.slice();
  next[i] = msg;
  return next;
}

function supersede(list: readonly string[], turnId: string): readonly string[] {
  const next = [...list, turnId];
  return next.length > MAX_SUPERSEDED ? next.slice(next.length - MAX_SUPERSEDED) : next;
}

function mapOutgoing(state: ChatState, clientMsgId: string, fn: (o: OutgoingMessage) => OutgoingMessage): ChatState {
  if (!state.outgoing.some((o) => o.clientMsgId === clientMsgId)) return state;
  return { ...state, outgoing: state.outgoing.map((o) => (o.clientMsgId === clientMsgId ? fn(o) : o)) };
}
