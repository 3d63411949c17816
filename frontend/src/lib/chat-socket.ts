/**
 * The page's one WebSocket to ai-server: a connection state machine with full-jitter
 * reconnects, the protocol's handshake on every (re)connect (`hello`, then `join` for
 * every chat this page follows), and an outbox that sends a `send`/`regenerate` again,
 * with the same `clientMsgId`, until its `ack` arrives (the server makes that
 * idempotent), so a message typed during a dropped connection or a server restart is
 * neither lost nor stored twice.
 *
 * States (one setter, `setState`, emits the new and the old snapshot, as centrifuge-js
 * `_setState` does):
 *
 *   connecting ──welcome──► open ──close/timeout──► reconnecting ──timer──► (attempt) ──welcome──► open
 *        │                                             ▲     │
 *        └───────────── failure ───────────────────────┘     └── browser offline ──► offline ──online──► attempt
 *
 * "open" means the server answered `hello` with `welcome`, not only that the socket opened.
 * Every frame received is validated with the protocol's schemas; one that fails them is
 * logged and ignored.
 *
 * The backoff step grows with every failure and goes back to the first window only once
 * a connection stayed open for a while (`stableAfterMs`), not at every `welcome`: a
 * server that accepts the handshake and then closes (overloaded, an internal error, a
 * frame it refuses) must not be hit again every second. Close codes: 1012 (a replica
 * restarting on purpose) comes back in the first window once per stable period, 1013
 * (try again later) waits at least `TRY_AGAIN_LATER_STEP`'s window, and 1009 (frame too
 * big) fails the message that caused it as `too_long` instead of sending it again.
 */
import {
  PROTOCOL_VERSION,
  codePointLength,
  decodeServerFrame,
  type ClientFrame,
  type ErrorFrame,
  type IdempotentFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '@ai-chat/protocol';
import { backoffDelay, BACKOFF_MAX_MS, BACKOFF_MIN_MS } from './backoff';
import { utf8ByteLength } from './protocol';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'offline';

export interface ConnectionSnapshot {
  state: ConnectionState;
  /** When the next attempt starts (ms since epoch) while waiting to reconnect; null otherwise. */
  retryAt: number | null;
  /** Failed attempts since the last connection that stayed open `stableAfterMs`. */
  attempt: number;
  /** The last `welcome` (kept while reconnecting: the limits and model stay known). */
  welcome: WelcomeFrame | null;
}

/** What the socket needs from a WebSocket (the browser's, or a test double). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Whether the browser thinks it is online, and when that changes. */
export interface NetworkStatus {
  isOnline(): boolean;
  /** Calls `onChange` on every change; returns the unsubscribe function. */
  subscribe(onChange: (online: boolean) => void): () => void;
}

export interface ChatSocketOptions {
  url: string;
  /** Sent in `hello` where a deployment turns auth on. */
  token?: string;
  createWebSocket?: (url: string) => WebSocketLike;
  network?: NetworkStatus;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
  now?: () => number;
  /** The socket must open and the server answer `hello` within this time. Default 10 s. */
  handshakeTimeoutMs?: number;
  /**
   * A `send` not acked within this time on an open socket means the connection is dead
   * without the browser noticing yet (a half-open TCP connection after a network change):
   * the socket is dropped and the send goes out again on the next one. Default 20 s.
   */
  ackTimeoutMs?: number;
  /**
   * A connection open (welcomed) this long counts as working: the backoff starts again
   * from its first window. Default 10 s.
   */
  stableAfterMs?: number;
}

/** Our own close code for a connection we gave up on (handshake or ack timeout). */
export const CLOSE_GIVING_UP = 4000;
const CLOSE_SERVICE_RESTART = 1012;
const CLOSE_TOO_BIG = 1009;
const CLOSE_TRY_AGAIN_LATER = 1013;
/** After 1013 the delay is drawn from at least this step's window (0.5 to 2.5 s by default). */
export const TRY_AGAIN_LATER_STEP = 2;

type Timer = ReturnType<typeof setTimeout>;

export class ChatSocket {
  private readonly opts: Required<Omit<ChatSocketOptions, 'token' | 'network' | 'createWebSocket'>> &
    Pick<ChatSocketOptions, 'token'>;
  private readonly createWebSocket: (url: string) => WebSocketLike;
  private readonly network: NetworkStatus;

  private snapshot: ConnectionSnapshot = { state: 'connecting', retryAt: null, attempt: 0, welcome: null };
  private readonly stateListeners = new Set<(next: ConnectionSnapshot, prev: ConnectionSnapshot) => void>();
  private readonly frameListeners = new Set<(frame: ServerFrame) => void>();

  private ws: WebSocketLike | null = null;
  private ready = false;
  private started = false;
  private everOpened = false;
  private retryTimer: Timer | null = null;
  private handshakeTimer: Timer | null = null;
  private stableTimer: Timer | null = null;
  /** The prompt reconnect after a 1012 was used since the last stable connection. */
  private restartShortcutUsed = false;
  /** `clientMsgId`s sent on the current socket and not acked (the candidates for a 1009). */
  private readonly sentOnSocket = new Set<string>();
  private readonly ackTimers = new Map<string, Timer>();
  private unsubscribeNetwork: (() => void) | null = null;

  private readonly joined = new Set<string>();
  /** Sends and regenerates not acked yet, in the order they were made. */
  private readonly outbox = new Map<string, IdempotentFrame>();
  /** Chats whose `stop` waits for the connection. */
  private readonly stopQueued = new Set<string>();

  constructor(options: ChatSocketOptions) {
    this.opts = {
      url: options.url,
      token: options.token,
      minBackoffMs: options.minBackoffMs ?? BACKOFF_MIN_MS,
      maxBackoffMs: options.maxBackoffMs ?? BACKOFF_MAX_MS,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      ackTimeoutMs: options.ackTimeoutMs ?? 20_000,
      stableAfterMs: options.stableAfterMs ?? 10_000,
    };
    this.createWebSocket = options.createWebSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
    this.network = options.network ?? browserNetwork();
  }

  // ---- observing ----

  getSnapshot = (): ConnectionSnapshot => this.snapshot;

  /** For `useSyncExternalStore`. */
  subscribe = (listener: () => void): (() => void) => this.onStateChange(() => listener());

  onStateChange(listener: (next: ConnectionSnapshot, prev: ConnectionSnapshot) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Every frame from the server (after the socket's own bookkeeping). */
  onFrame(listener: (frame: ServerFrame) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  // ---- lifecycle ----

  /** Starts connecting (again, after `close()`). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribeNetwork = this.network.subscribe((online) => this.onNetworkChange(online));
    this.connect();
  }

  /** Closes for good (the page is leaving): no reconnect until `start()`. */
  close(): void {
    if (!this.started) return;
    this.started = false;
    this.unsubscribeNetwork?.();
    this.unsubscribeNetwork = null;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) closeQuietly(ws, 1000);
    this.setState({ state: 'offline', retryAt: null });
  }

  /** Skips the wait before the next attempt (the connection indicator's "connect now"). */
  reconnectNow(): void {
    if (!this.started || this.ready) return;
    if (this.ws && this.snapshot.retryAt === null) return; // an attempt is under way
    this.connect();
  }

  // ---- chats and messages ----

  /** Follows a chat: `join` now if connected, and again after every reconnect. */
  join(chatId: string): void {
    this.joined.add(chatId);
    this.transmit({ type: 'join', chatId });
  }

  /** Asks for a fresh `history` of a followed chat (the state saw a gap). */
  rejoin(chatId: string): void {
    if (this.joined.has(chatId)) this.transmit({ type: 'join', chatId });
  }

  /** Stops following a chat; its unacked messages are dropped. */
  leave(chatId: string): void {
    if (!this.joined.delete(chatId)) return;
    for (const [id, f] of this.outbox) if (f.chatId === chatId) this.forget(id);
    this.stopQueued.delete(chatId);
    this.transmit({ type: 'leave', chatId });
  }

  /**
   * Sends a `send` or `regenerate` now if connected, else on the next connection, and
   * again on every reconnect until its `ack` (or an `error` naming its `clientMsgId`).
   * Calling it again with the same `clientMsgId` is the protocol's "retry".
   */
  send(frame: IdempotentFrame): void {
    this.outbox.delete(frame.clientMsgId); // keep the order of the latest attempt
    this.outbox.set(frame.clientMsgId, frame);
    if (this.ready) this.transmitIdempotent(frame);
  }

  /** Drops an unacked message: it will not be sent again. */
  forget(clientMsgId: string): void {
    this.outbox.delete(clientMsgId);
    this.sentOnSocket.delete(clientMsgId);
    this.clearAckTimer(clientMsgId);
  }

  /** Ends the answer streaming in a chat; sent after the next `join` when not connected. */
  stop(chatId: string): void {
    if (this.ready) this.transmit({ type: 'stop', chatId });
    else this.stopQueued.add(chatId);
  }

  /** The `clientMsgId`s not acked yet (for tests and diagnostics). */
  pending(): string[] {
    return [...this.outbox.keys()];
  }

  // ---- the machine ----

  private setState(patch: Partial<ConnectionSnapshot>): void {
    const prev = this.snapshot;
    const next = { ...prev, ...patch };
    if (
      next.state === prev.state &&
      next.retryAt === prev.retryAt &&
      next.attempt === prev.attempt &&
      next.welcome === prev.welcome
    ) {
      return;
    }
    this.snapshot = next;
    for (const l of [...this.stateListeners]) l(next, prev);
  }

  private connect(): void {
    this.clearRetryTimer();
    this.clearStableTimer();
    if (!this.started) return;
    if (!this.network.isOnline()) {
      this.setState({ state: 'offline', retryAt: null });
      return;
    }
    if (this.ws) {
      const old = this.ws;
      this.ws = null;
      closeQuietly(old, CLOSE_GIVING_UP);
    }
    this.ready = false;
    this.sentOnSocket.clear();
    this.setState({ state: this.everOpened || this.snapshot.attempt > 0 ? 'reconnecting' : 'connecting', retryAt: null });

    let ws: WebSocketLike;
    try {
      ws = this.createWebSocket(this.opts.url);
    } catch {
      this.scheduleReconnect(null);
      return;
    }
    this.ws = ws;
    this.handshakeTimer = setTimeout(() => this.giveUp(ws), this.opts.handshakeTimeoutMs);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      const hello: ClientFrame = { type: 'hello', protocol: PROTOCOL_VERSION };
      if (this.opts.token !== undefined) hello.token = this.opts.token;
      this.rawSend(ws, hello);
    };
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.receive(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      if (ev.code === CLOSE_TOO_BIG) this.failTooBig();
      this.scheduleReconnect(ev.code);
    };
    ws.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
  }

  private receive(data: unknown): void {
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) {
      // A frame of a newer server, or a broken one: never acted on.
      console.warn(`chat socket: ignored a frame from the server (${decoded.reason})`);
      return;
    }
    const frame = decoded.value;
    switch (frame.type) {
      case 'welcome':
        this.onWelcome(frame);
        break;
      case 'ack':
        this.forget(frame.clientMsgId);
        break;
      case 'error':
        // Refused before its ack: not retried by itself (the page offers "retry", which
        // calls `send` again with the same id). After store_unavailable it may have been
        // stored: that resend is then answered as a duplicate, never stored twice.
        if (frame.clientMsgId !== undefined) this.forget(frame.clientMsgId);
        break;
      default:
        break;
    }
    for (const l of [...this.frameListeners]) l(frame);
  }

  private onWelcome(welcome: WelcomeFrame): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.ready = true;
    this.everOpened = true;
    // The attempt count is kept until this connection proves itself (see stableAfterMs).
    this.setState({ state: 'open', retryAt: null, welcome });
    this.clearStableTimer();
    this.stableTimer = setTimeout(() => {
      this.stableTimer = null;
      this.restartShortcutUsed = false;
      this.setState({ attempt: 0 });
    }, this.opts.stableAfterMs);
    // The order matters: `join` first (its `history` shows what the server has), then
    // the queued stops, then every unacked message (a duplicate is acked again, with a
    // `history`; a new one is stored once).
    for (const chatId of this.joined) this.transmit({ type: 'join', chatId });
    for (const chatId of this.stopQueued) if (this.joined.has(chatId)) this.transmit({ type: 'stop', chatId });
    this.stopQueued.clear();
    // A failed send gives the socket up; transmitIdempotent then sends nothing more.
    for (const frame of [...this.outbox.values()]) {
      if (this.outbox.get(frame.clientMsgId) === frame) this.transmitIdempotent(frame);
    }
  }

  private scheduleReconnect(code: number | null): void {
    this.clearTimers();
    if (!this.started) return;
    if (!this.network.isOnline()) {
      this.setState({ state: 'offline', retryAt: null });
      return;
    }
    // 1012: the replica is restarting or draining on purpose; others are up, come back
    // soon (still with jitter: every client of that replica gets this code at once), once
    // per stable connection. 1013: the server asks for patience; never the first window.
    let step = this.snapshot.attempt;
    if (code === CLOSE_SERVICE_RESTART && !this.restartShortcutUsed) {
      step = 0;
      this.restartShortcutUsed = true;
    } else if (code === CLOSE_TRY_AGAIN_LATER) {
      step = Math.max(step, TRY_AGAIN_LATER_STEP);
    }
    const delay = backoffDelay(step, this.opts.minBackoffMs, this.opts.maxBackoffMs, this.opts.random);
    const retryAt = this.opts.now() + delay;
    this.setState({ state: 'reconnecting', retryAt, attempt: this.snapshot.attempt + 1 });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** Gives up on a connection that stopped answering, and reconnects. */
  private giveUp(ws: WebSocketLike): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.ready = false;
    closeQuietly(ws, CLOSE_GIVING_UP);
    this.scheduleReconnect(null);
  }

  private onNetworkChange(online: boolean): void {
    if (!this.started) return;
    if (online) {
      if (this.snapshot.state === 'offline' || this.retryTimer) this.connect();
    } else if (!this.ready) {
      // Not connected and the browser knows there is no network: stop trying until it is back.
      this.clearTimers();
      const ws = this.ws;
      this.ws = null;
      if (ws) closeQuietly(ws, CLOSE_GIVING_UP);
      this.setState({ state: 'offline', retryAt: null });
    }
  }

  private transmit(frame: ClientFrame): void {
    if (this.ready && this.ws) this.rawSend(this.ws, frame);
  }

  private transmitIdempotent(frame: IdempotentFrame): void {
    const ws = this.ws;
    if (!this.ready || !ws) return;
    const data = JSON.stringify(frame);
    if (this.overLimits(frame, data)) {
      // The server would close the socket (1009) or refuse it (too_long): fail it here.
      this.failTooLong(frame);
      return;
    }
    this.sentOnSocket.add(frame.clientMsgId);
    this.rawSendText(ws, data);
    if (this.ws !== ws) return; // the send failed and the socket was given up
    this.clearAckTimer(frame.clientMsgId);
    this.ackTimers.set(
      frame.clientMsgId,
      setTimeout(() => {
        this.ackTimers.delete(frame.clientMsgId);
        if (this.outbox.has(frame.clientMsgId)) this.giveUp(ws);
      }, this.opts.ackTimeoutMs),
    );
  }

  private rawSend(ws: WebSocketLike, frame: ClientFrame): void {
    this.rawSendText(ws, JSON.stringify(frame));
  }

  private rawSendText(ws: WebSocketLike, data: string): void {
    try {
      ws.send(data);
    } catch {
      this.giveUp(ws);
    }
  }

  /** Whether a frame breaks the limits of the server that welcomed this connection. */
  private overLimits(frame: IdempotentFrame, data: string): boolean {
    const limits = this.snapshot.welcome?.limits;
    if (!limits) return false;
    if (frame.type === 'send' && codePointLength(frame.text.trim()) > limits.maxMessageChars) return true;
    return utf8ByteLength(data) > limits.maxFrameBytes;
  }

  /**
   * The server closed with 1009: one of the messages sent on that socket was too big for
   * it. Sending it again would only close the next socket too: it fails as `too_long`.
   * The culprit is the first one over the announced frame cap, else the largest one.
   */
  private failTooBig(): void {
    const candidates = [...this.sentOnSocket].map((id) => this.outbox.get(id)).filter((f) => f !== undefined);
    if (candidates.length === 0) return;
    const sized = candidates.map((f) => ({ f, bytes: utf8ByteLength(JSON.stringify(f)) }));
    const cap = this.snapshot.welcome?.limits.maxFrameBytes;
    const over = cap === undefined ? undefined : sized.find((x) => x.bytes > cap);
    const culprit = over ?? sized.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    this.failTooLong(culprit.f);
  }

  /**
   * Drops a message the server cannot take and tells the listeners as the server would
   * have: an `error` `too_long` naming its `clientMsgId` (the page shows it on the bubble).
   */
  private failTooLong(frame: IdempotentFrame): void {
    this.forget(frame.clientMsgId);
    const error: ErrorFrame = {
      type: 'error',
      code: 'too_long',
      message: 'The message is over the server\'s limits (checked by the client).',
      retryable: false,
      chatId: frame.chatId,
      clientMsgId: frame.clientMsgId,
    };
    for (const l of [...this.frameListeners]) l(error);
  }

  private clearRetryTimer(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private clearAckTimer(clientMsgId: string): void {
    const t = this.ackTimers.get(clientMsgId);
    if (t) clearTimeout(t);
    this.ackTimers.delete(clientMsgId);
  }

  private clearStableTimer(): void {
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.stableTimer = null;
  }

  private clearTimers(): void {
    this.clearRetryTimer();
    this.clearStableTimer();
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    for (const t of this.ackTimers.values()) clearTimeout(t);
    this.ackTimers.clear();
  }
}

function closeQuietly(ws: WebSocketLike, code: number): void {
  ws.onopen = ws.onmessage = ws.onerror = null;
  ws.onclose = null;
  try {
    ws.close(code);
  } catch {
    // Already closing, or CONNECTING in a browser that refuses close codes then.
  }
}

/** `navigator.onLine` and the window's `online`/`offline` events; always online elsewhere. */
export function browserNetwork(): NetworkStatus {
  const hasWindow = typeof window !== 'undefined' && typeof window.addEventListener === 'function';
  return {
    // A navigator outside the browser (Node's) may have no `onLine`: only an explicit false is offline.
    isOnline: () => (typeof navigator === 'undefined' ? true : (navigator as Partial<Navigator>).onLine !== false),
    subscribe(onChange) {
      if (!hasWindow) return () => undefined;
      const on = () => onChange(true);
      const off = () => onChange(false);
      window.addEventListener('online', on);
      window.addEventListener('offline', off);
      return () => {
        window.removeEventListener('online', on);
        window.removeEventListener('offline', off);
      };
    },
  };
}
