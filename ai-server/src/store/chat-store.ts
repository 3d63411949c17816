import type { LiveFrame, Message } from '@ai-chat/protocol';
import type { RateRule, RetryAfterMs } from './rate-limit.js';

/** The turn record of a chat, as stored while it streams (or after its producer died). */
export interface StoredTurn {
  turnId: string;
  replyTo: string;
  replaces: string | null;
  /** The reply text produced so far. */
  text: string;
  /** `seq` of the last delta. */
  seq: number;
  /** serverId of the replica that produces it. */
  owner: string;
  /** false: the lease expired or was handed over; the turn is an orphan to repair. */
  leaseAlive: boolean;
  /** A user asked to stop it (an orphan with this set is ended as stopped, not taken over). */
  stopRequested: boolean;
}

/** A consistent view of a chat: its stored messages, its turn, and the event counter they were read at. */
export interface ChatSnapshot {
  /** Oldest first; at most the newest `maxMessages` asked for. */
  messages: Message[];
  /** How many messages the chat stores in all. */
  total: number;
  turn: StoredTurn | null;
  /** Live frames with `ev` at most this are already reflected in the snapshot. */
  ev: number;
}

/**
 * What a subscriber of a chat receives: the store publishes events (live-event.ts) and
 * `toEnvelope` makes them these. `ev` orders frames against snapshots; a `stop` control
 * reaches the replica producing the turn; a `handover` control tells the replicas
 * watching the chat that its producer gave the turn up (drained), to be taken over now.
 */
export type LiveEnvelope =
  | { ev: number; frame: LiveFrame }
  | { ev: 0; control: 'stop' | 'handover'; turnId: string };

export type BeginResult =
  | { kind: 'started'; messageId: string; replyTo: string; replaces: string | null }
  | { kind: 'duplicate'; messageId: string }
  | { kind: 'busy' }
  /** A turn record whose lease is gone: repair it, then try again. */
  | { kind: 'orphan' }
  /** `regenerate` in a chat with no user message. */
  | { kind: 'nothing' };

export interface BeginSend {
  kind: 'send';
  clientMsgId: string;
  message: Message;
}
export interface BeginRegenerate {
  kind: 'regenerate';
  clientMsgId: string;
}

/** The outcome of a turn's delta or lease renewal: go on, stop (asked by a user), or fenced (lease lost). */
export type TurnSignal = 'ok' | 'stop' | 'fenced';

export interface EndTurn {
  turnId: string;
  /** `owner`: the caller holds the lease; `orphan`: the lease is gone and the caller repairs. */
  mode: 'owner' | 'orphan';
  /** The model message to store (null: store nothing, e.g. a failed regenerate). */
  message: Message | null;
  /** When set and the last stored message has this id, `message` replaces it. */
  replaces: string | null;
  /** The frame that ends the turn for every watcher (`done` or `error`). */
  frame: LiveFrame;
}

/**
 * The store seam: only what the chat service calls. Every method that reaches the store
 * throws `AppError('store_unavailable')` when it cannot; every write slides the chat's TTL.
 */
export interface ChatStore {
  /** Resolves when the store answers (readiness). */
  ping(): Promise<void>;
  snapshot(chatId: string, maxMessages: number): Promise<ChatSnapshot>;
  /** The newest stored messages, oldest first, stopping once `maxChars` of text is reached. */
  recentMessages(chatId: string, maxChars: number): Promise<Message[]>;
  /**
   * Atomically: checks idempotency and the turn lock, stores the user message (for a send)
   * and its idempotency record, opens the turn with its lease and publishes its `start`.
   */
  beginTurn(
    chatId: string,
    begin: BeginSend | BeginRegenerate,
    turn: { turnId: string; owner: string },
  ): Promise<BeginResult>;
  /** Appends to the turn's text and publishes a `delta` with the next seq (returns it). */
  appendDelta(
    chatId: string,
    turnId: string,
    text: string,
  ): Promise<{ signal: TurnSignal; seq: number }>;
  renewLease(chatId: string, turnId: string): Promise<TurnSignal>;
  /** Ends a turn: stores its message, removes the turn and its lease, publishes `frame`. False when fenced. */
  endTurn(chatId: string, end: EndTurn): Promise<boolean>;
  /**
   * Gives up the lease (a draining replica) without ending the turn, and publishes a
   * `handover` control, so a replica watching the chat takes it over at once.
   */
  releaseTurn(chatId: string, turnId: string): Promise<void>;
  /** Claims an orphaned turn under a new turnId and publishes its `start`. Null when not an orphan any more. */
  takeOver(
    chatId: string,
    oldTurnId: string,
    turn: { turnId: string; owner: string },
  ): Promise<StoredTurn | null>;
  /** Asks the turn streaming in the chat to stop; returns its turnId, or null when none streams. */
  requestStop(chatId: string): Promise<string | null>;
  /** Whether a send or regenerate with this clientMsgId is already recorded in the chat. */
  isRecorded(chatId: string, clientMsgId: string): Promise<boolean>;
  /**
   * Takes a token of the rate limit `key` (GCRA, rate-limit.ts), shared by every replica
   * using the store: 0 when taken, else the ms until one is back (nothing taken).
   */
  takeToken(key: string, rule: RateRule): Promise<RetryAfterMs>;
  /** Subscribes to a chat's live channel; resolves once subscribed, with the way to unsubscribe. */
  subscribe(chatId: string, listener: (envelope: LiveEnvelope) => void): Promise<() => void>;
  /** Called after the live channel was lost and restored (frames may have been missed). */
  onResubscribed(listener: () => void): void;
  close(): Promise<void>;
}
