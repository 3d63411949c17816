/**
 * One visitor's conversation: the socket, the chat id kept in localStorage, and the
 * conversation state. The page's actions (send, stop, regenerate, retry, new chat) are
 * here, as the protocol defines them; the components only call them.
 */
import { ChatSocket, type ChatSocketOptions } from './chat-socket';
import { canRetry, chatReducer, initialChatState, isBusy, type ChatAction, type ChatState } from './chat-state';
import { loadChatId, randomId, saveNewChatId } from './ids';
import { codePointLength, type ServerFrame } from '@ai-chat/protocol';
import { createStore, type Store } from './store';

/** Until the first `welcome` says otherwise (the server's default `MAX_MESSAGE_CHARS`). */
export const DEFAULT_MAX_MESSAGE_CHARS = 8000;

/**
 * An answer that has not moved for this long is looked at again with a `join`: its
 * producer may have died while this page was reconnecting, and a `join` is where the
 * server repairs an orphaned turn (takes it over or marks it interrupted). Harmless
 * when the model is only slow: the `history` continues the same turn.
 */
export const STALL_REJOIN_MS = 12_000;

export interface ChatSessionOptions {
  socket: ChatSocket;
  /** The chat to show; default: the one kept in localStorage (created on first use). */
  chatId?: string;
  /** Where a new chat's id is kept; default localStorage. */
  newChatId?: () => string;
  now?: () => number;
  /** See STALL_REJOIN_MS. */
  stallRejoinMs?: number;
}

export type SendResult = 'sent' | 'empty' | 'too_long' | 'busy';

export class ChatSession {
  readonly socket: ChatSocket;
  readonly store: Store<ChatState, ChatAction>;
  private readonly newChatIdImpl: () => string;
  private readonly now: () => number;
  private unsubscribers: (() => void)[] = [];
  private resyncRequested = false;
  private readonly stallRejoinMs: number;
  /** When the streaming turn last moved (or the wait for it began), and when we last rejoined for it. */
  private progressAt = 0;
  private progressKey = '';
  private stallRejoinAt = 0;

  constructor(options: ChatSessionOptions) {
    this.socket = options.socket;
    this.newChatIdImpl = options.newChatId ?? (() => saveNewChatId());
    this.now = options.now ?? Date.now;
    this.stallRejoinMs = options.stallRejoinMs ?? STALL_REJOIN_MS;
    this.store = createStore(chatReducer, initialChatState(options.chatId ?? loadChatId()));
  }

  get chatId(): string {
    return this.store.getState().chatId;
  }

  /** Connects and follows the chat. Safe to call again after `dispose()`. */
  start(): void {
    if (this.unsubscribers.length) return;
    const watchdog = setInterval(() => this.checkStall(), Math.max(250, this.stallRejoinMs / 12));
    this.unsubscribers.push(
      this.socket.onFrame((f) => this.onFrame(f)),
      this.store.subscribe(() => this.onStateChange()),
      () => clearInterval(watchdog),
    );
    this.socket.join(this.chatId);
    this.socket.start();
  }

  dispose(): void {
    for (const u of this.unsubscribers) u();
    this.unsubscribers = [];
    this.socket.close();
  }

  maxMessageChars(): number {
    return this.socket.getSnapshot().welcome?.limits.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  }

  /** Sends a user message (now, or once connected). Returns why not when it did not. */
  send(text: string): SendResult {
    const trimmed = text.trim();
    if (trimmed.length === 0) return 'empty';
    if (codePointLength(trimmed) > this.maxMessageChars()) return 'too_long';
    if (isBusy(this.store.getState())) return 'busy';
    const clientMsgId = randomId();
    this.store.dispatch({
      type: 'outgoing',
      message: { clientMsgId, kind: 'send', text: trimmed, createdAt: this.now(), error: null },
    });
    this.socket.send({ type: 'send', chatId: this.chatId, clientMsgId, text: trimmed });
    return 'sent';
  }

  stop(): void {
    this.socket.stop(this.chatId);
  }

  /** Answers the last user message again (after any ending of the last answer). */
  regenerate(): void {
    if (isBusy(this.store.getState())) return;
    const clientMsgId = randomId();
    this.store.dispatch({
      type: 'outgoing',
      message: { clientMsgId, kind: 'regenerate', text: '', createdAt: this.now(), error: null },
    });
    this.socket.send({ type: 'regenerate', chatId: this.chatId, clientMsgId });
  }

  /**
   * "Retry" on a message refused before its ack: the same frame, the same `clientMsgId`.
   * Not while an answer is on its way (it would be refused as busy again, or land after a
   * newer message), not before the server's `retryAfterMs`, not once a newer message went.
   */
  retry(clientMsgId: string): void {
    const state = this.store.getState();
    const o = state.outgoing.find((x) => x.clientMsgId === clientMsgId);
    if (!o || !canRetry(o, isBusy(state), this.now())) return;
    this.store.dispatch({ type: 'retry-outgoing', clientMsgId });
    this.socket.send(
      o.kind === 'send'
        ? { type: 'send', chatId: this.chatId, clientMsgId, text: o.text }
        : { type: 'regenerate', chatId: this.chatId, clientMsgId },
    );
  }

  /** Drops a message the server refused. */
  dismiss(clientMsgId: string): void {
    this.socket.forget(clientMsgId);
    this.store.dispatch({ type: 'dismiss-outgoing', clientMsgId });
  }

  /** "Retry" on an error shown outside a bubble: regenerate after a failed turn, else join again. */
  retryNotice(): void {
    const notice = this.store.getState().notice;
    if (!notice) return;
    this.store.dispatch({ type: 'dismiss-notice' });
    if (notice.retry === 'regenerate') this.regenerate();
    else if (notice.retry === 'rejoin') this.socket.rejoin(this.chatId);
  }

  dismissNotice(): void {
    this.store.dispatch({ type: 'dismiss-notice' });
  }

  /** "New chat": leave this one, start another with a new id (kept for the next reload). */
  newChat(): void {
    const old = this.chatId;
    this.socket.leave(old);
    const chatId = this.newChatIdImpl();
    this.resyncRequested = false;
    this.store.dispatch({ type: 'reset', chatId });
    this.socket.join(chatId);
  }

  private onFrame(frame: ServerFrame): void {
    if (frame.type === 'welcome') return;
    // Frames of a chat this page left are late: ignore them. An error that names no
    // chat (a malformed frame, say) is shown with the current one.
    if (frame.chatId !== undefined && frame.chatId !== this.chatId) return;
    this.store.dispatch({ type: 'frame', frame, at: this.now() });
  }

  private onStateChange(): void {
    const { resync, turn, awaitingTurn } = this.store.getState();
    const key = turn ? `${turn.turnId}:${turn.seq}` : awaitingTurn ? 'awaiting' : '';
    if (key !== this.progressKey) {
      this.progressKey = key;
      this.progressAt = this.now();
    }
    if (resync && !this.resyncRequested) {
      this.resyncRequested = true;
      this.socket.rejoin(this.chatId);
    } else if (!resync) {
      this.resyncRequested = false;
    }
  }

  private checkStall(): void {
    if (this.progressKey === '' || this.socket.getSnapshot().state !== 'open') return;
    const now = this.now();
    const since = Math.max(this.progressAt, this.stallRejoinAt);
    if (now - since < this.stallRejoinMs) return;
    this.stallRejoinAt = now;
    this.socket.rejoin(this.chatId);
  }
}

/** The page's session: the socket at the configured URL, the chat from localStorage. */
export function createChatSession(socketOptions: ChatSocketOptions): ChatSession {
  return new ChatSession({ socket: new ChatSocket(socketOptions) });
}
