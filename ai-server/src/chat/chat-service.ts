import type { Logger } from 'pino';
import { ErrorCodes, type ErrorFrame, type HistoryFrame, type LiveFrame, type Message } from '@ai-chat/protocol';
import { AppError, isAppError } from '../errors.js';
import { metrics } from '../metrics/metrics.js';
import type { LlmProvider } from '../llm/llm-provider.js';
import type { BeginRegenerate, BeginResult, BeginSend, ChatSnapshot, ChatStore, StoredTurn } from '../store/chat-store.js';
import type { ClientSink } from './client-sink.js';
import { newId } from './ids.js';
import { LiveSubscription } from './live-subscription.js';
import { SharedReads } from './shared-reads.js';
import { TurnRecovery } from './turn-recovery.js';
import { TurnRunner, type TurnSettings, type TurnSpec } from './turn-runner.js';

export interface ChatServiceOptions extends TurnSettings {
  serverId: string;
  /** Budget of one `history` frame in bytes. */
  historyBudgetBytes: number;
  /** Chats one client may have joined at once (0: no cap); beyond it `bad_request`. */
  maxChatsPerSocket?: number;
}

/**
 * How many stored messages a `join` reads at most: the newest ones, then cut to the
 * history frame budget. Bounds the work of one `join`.
 */
export const HISTORY_MAX_MESSAGES = 2000;

/** Following one answer in a chat without joining it (see `ChatService.follow`). */
export interface Follower {
  /** Subscribes; frames flow from then on. */
  open(): Promise<void>;
  /** Unsubscribes. */
  close(): void;
}

/**
 * The use cases of protocol v1: join, leave, send, stop, regenerate; orphaned turns are
 * left to `TurnRecovery`. Knows nothing of sockets: clients are `ClientSink`s.
 */
export class ChatService {
  /** Turns produced by this replica, by chatId. */
  private readonly turns = new Map<string, TurnRunner>();
  /** Each client's joined chats. */
  private readonly subscriptions = new Map<ClientSink, Map<string, LiveSubscription>>();
  /** Each client's followers (`follow`): subscriptions outside its joined chats. */
  private readonly followers = new Map<ClientSink, Set<LiveSubscription>>();
  /** Clients gone: nothing may subscribe them again (frames they queued still run). */
  private readonly detached = new WeakSet<ClientSink>();
  private readonly recovery: TurnRecovery;
  /** Concurrent joins of one chat on this replica share one snapshot read. */
  private readonly snapshots: SharedReads<ChatSnapshot>;
  /** The `history` frame of a shared snapshot, built once for all the joins sharing it. */
  private readonly historyFrames = new WeakMap<ChatSnapshot, HistoryFrame>();
  private draining = false;

  constructor(
    private readonly store: ChatStore,
    private readonly llm: LlmProvider,
    private readonly options: ChatServiceOptions,
    private readonly log: Logger,
  ) {
    this.snapshots = new SharedReads((chatId) => store.snapshot(chatId, HISTORY_MAX_MESSAGES));
    this.recovery = new TurnRecovery(
      store,
      {
        produce: (spec) => this.startTurn(spec),
        isProducing: (chatId) => this.turns.has(chatId),
        isWatched: (chatId) => [...this.subscriptions.values()].some((subs) => subs.has(chatId)),
      },
      { serverId: options.serverId, leaseMs: options.leaseMs },
      log,
    );
    // Frames published while the live channel was down were missed: resend snapshots.
    store.onResubscribed(() => {
      for (const [sink, subs] of this.subscriptions) {
        for (const sub of subs.values()) void this.resync(sink, sub).catch(() => undefined);
      }
    });
  }

  get model(): string {
    return this.llm.model;
  }

  /** Subscribes the client to the chat and sends it a `history` frame, then the live frames. */
  async join(sink: ClientSink, chatId: string): Promise<void> {
    const sub = await this.subscription(sink, chatId, true);
    await this.resync(sink, sub);
  }

  leave(sink: ClientSink, chatId: string): void {
    const subs = this.subscriptions.get(sink);
    subs?.get(chatId)?.close();
    subs?.delete(chatId);
    if (subs?.size === 0) this.subscriptions.delete(sink);
  }

  /** The client is gone: drop all its subscriptions (its turns go on). */
  detach(sink: ClientSink): void {
    this.detached.add(sink);
    for (const sub of this.subscriptions.get(sink)?.values() ?? []) sub.close();
    for (const sub of this.followers.get(sink) ?? []) sub.close();
    this.subscriptions.delete(sink);
    this.followers.delete(sink);
  }

  async send(sink: ClientSink, chatId: string, clientMsgId: string, text: string): Promise<void> {
    const message: Message = { id: newId('m'), role: 'user', text, createdAt: Date.now(), status: 'complete' };
    await this.begin(sink, chatId, { kind: 'send', clientMsgId, message });
  }

  async regenerate(sink: ClientSink, chatId: string, clientMsgId: string): Promise<void> {
    await this.begin(sink, chatId, { kind: 'regenerate', clientMsgId });
  }

  /**
   * Stores a user message and starts answering it, with no `ack`: the caller follows the
   * answer on the chat's live frames (its `start` names `turnId` and replies to `message`).
   * Refused as `busy` while a turn streams in the chat.
   */
  async answer(chatId: string, message: Message, turnId: string): Promise<void> {
    const result = await this.beginWithRepair(chatId, { kind: 'send', clientMsgId: newId('l'), message }, turnId);
    if (result.kind !== 'started') throw new AppError(result.kind === 'busy' ? 'busy' : 'internal');
    this.startTurn({ chatId, turnId, replyTo: result.replyTo, replaces: null });
  }

  /**
   * A subscription of the client to the chat's live frames outside its joined chats: no
   * `history`, no watch over the turn; it also gets the frames this replica could not
   * publish. Closed with the client. Null when the client is gone.
   */
  follow(sink: ClientSink, chatId: string, deliver: (frame: LiveFrame) => void): Follower | null {
    if (this.detached.has(sink)) return null;
    const sub = new LiveSubscription(this.store, chatId, deliver);
    let set = this.followers.get(sink);
    if (!set) this.followers.set(sink, (set = new Set()));
    set.add(sub);
    return {
      open: () => sub.open(false),
      close: () => {
        sub.close();
        set.delete(sub);
      },
    };
  }

  /**
   * Asks the turn streaming in the chat to stop, wherever it is produced. An orphaned turn
   * (its producer is gone) is repaired here, which ends it as stopped. No turn: nothing happens.
   */
  async stop(chatId: string): Promise<void> {
    const turnId = await this.store.requestStop(chatId);
    if (!turnId) return;
    const local = this.turns.get(chatId);
    if (local?.turnId === turnId) {
      local.abort('stop');
      return;
    }
    await this.recovery.repairChat(chatId, 'stop', turnId);
  }

  /**
   * Drains: lets this replica's turns finish for up to `graceMs`, then hands the rest over
   * (their lease released, so another replica or the next join repairs them).
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.recovery.stop();
    const all = () => Promise.all([...this.turns.values()].map((t) => t.done));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'grace'>((resolve) => {
      timer = setTimeout(() => resolve('grace'), graceMs);
    });
    const result = await Promise.race([all().then(() => 'done' as const), grace]);
    clearTimeout(timer);
    if (result === 'grace') {
      for (const t of this.turns.values()) t.abort('handover');
      await all();
    }
    for (const sink of [...this.subscriptions.keys(), ...this.followers.keys()]) this.detach(sink);
  }

  // ---------------------------------------------------------------------------------

  /** The client's subscription to the chat, opened (holding its frames when new and `hold`). */
  private async subscription(sink: ClientSink, chatId: string, hold: boolean): Promise<LiveSubscription> {
    const existing = this.subscriptions.get(sink)?.get(chatId);
    if (existing) return existing;
    if (this.detached.has(sink)) throw new AppError('internal', 'the client is gone');
    const cap = this.options.maxChatsPerSocket ?? 0;
    if (cap > 0 && (this.subscriptions.get(sink)?.size ?? 0) >= cap) {
      metrics.refused('max_chats_per_socket');
      throw new AppError('bad_request', `At most ${cap} chats may be joined at once on one socket; leave one first.`);
    }
    const sub = new LiveSubscription(
      this.store,
      chatId,
      (frame) => {
        this.recovery.noteLiveFrame(chatId, frame);
        sink.send(frame);
      },
      () => this.recovery.onHandover(chatId),
    );
    let subs = this.subscriptions.get(sink);
    if (!subs) this.subscriptions.set(sink, (subs = new Map<string, LiveSubscription>()));
    subs.set(chatId, sub);
    try {
      await sub.open(hold);
    } catch (err) {
      if (subs.get(chatId) === sub) this.leave(sink, chatId);
      throw err;
    }
    return sub;
  }

  /** Holds the live frames, reads a snapshot (repairing an orphaned turn), sends `history`, releases. */
  private resync(sink: ClientSink, sub: LiveSubscription): Promise<void> {
    return sub.exclusive(() => this.resyncNow(sink, sub));
  }

  /** `resync` for a caller already inside the subscription's `exclusive`. */
  private async resyncNow(sink: ClientSink, sub: LiveSubscription): Promise<void> {
    if (sub.isClosed) return;
    const { chatId } = sub;
    sub.hold();
    try {
      let snap = await this.snapshots.get(chatId);
      if (await this.recovery.repairIfOrphaned(chatId, snap.turn, 'join')) {
        snap = await this.snapshots.get(chatId);
      }
      if (snap.turn) this.recovery.watch(chatId);
      let frame = this.historyFrames.get(snap);
      if (!frame) this.historyFrames.set(snap, (frame = this.historyFrame(chatId, snap.messages, snap.total, snap.turn)));
      sink.send(frame);
      sub.release(snap.ev);
    } catch (err) {
      sub.release(null);
      throw err;
    }
  }

  private historyFrame(chatId: string, messages: Message[], total: number, turn: StoredTurn | null): HistoryFrame {
    const turnView = turn
      ? { turnId: turn.turnId, replyTo: turn.replyTo, replaces: turn.replaces, text: turn.text, seq: turn.seq }
      : null;
    let budget = this.options.historyBudgetBytes - 1024 - (turnView ? Buffer.byteLength(JSON.stringify(turnView)) : 0);
    let first = messages.length;
    while (first > 0) {
      const size = Buffer.byteLength(JSON.stringify(messages[first - 1])) + 1;
      if (size > budget) break;
      budget -= size;
      first--;
    }
    const kept = messages.slice(first);
    return { type: 'history', chatId, messages: kept, turn: turnView, truncated: kept.length < total };
  }

  /**
   * A send or regenerate: the client's live frames are held while the message is stored,
   * so it sees its `ack` first (then, for a duplicate, a `history`), then the live frames.
   */
  private async begin(sink: ClientSink, chatId: string, begin: BeginSend | BeginRegenerate): Promise<void> {
    const { clientMsgId } = begin;
    const sub = await this.subscription(sink, chatId, true).catch((err: unknown) => {
      throw withClientMsgId(err, clientMsgId);
    });
    await sub.exclusive(() => this.beginHeld(sink, sub, begin));
  }

  private async beginHeld(sink: ClientSink, sub: LiveSubscription, begin: BeginSend | BeginRegenerate): Promise<void> {
    const { chatId } = sub;
    const { clientMsgId } = begin;
    sub.hold();
    const turnId = newId('t');
    let result: BeginResult;
    try {
      result = await this.beginWithRepair(chatId, begin, turnId);
    } catch (err) {
      sub.resume();
      throw withClientMsgId(err, clientMsgId);
    }
    switch (result.kind) {
      case 'started':
        sink.send({ type: 'ack', chatId, clientMsgId, messageId: result.messageId, duplicate: false });
        sub.resume();
        this.startTurn({ chatId, turnId, replyTo: result.replyTo, replaces: result.replaces });
        return;
      case 'duplicate':
        sink.send({ type: 'ack', chatId, clientMsgId, messageId: result.messageId, duplicate: true });
        await this.resyncNow(sink, sub);
        return;
      case 'busy':
      case 'orphan':
        sub.resume();
        throw withClientMsgId(new AppError('busy'), clientMsgId);
      case 'nothing':
        sub.resume();
        throw withClientMsgId(new AppError('bad_request', 'There is no user message to answer again.'), clientMsgId);
    }
  }

  /** `beginTurn`; an orphaned turn in the way is repaired first (the user has moved on), then it tries again. */
  private async beginWithRepair(chatId: string, begin: BeginSend | BeginRegenerate, turnId: string): Promise<BeginResult> {
    if (this.draining) throw new AppError('internal', 'this replica is shutting down');
    const turn = { turnId, owner: this.options.serverId };
    const result = await this.store.beginTurn(chatId, begin, turn);
    if (result.kind !== 'orphan') return result;
    await this.recovery.repairChat(chatId, 'moved-on');
    return this.store.beginTurn(chatId, begin, turn);
  }

  private startTurn(spec: TurnSpec): void {
    const log = this.log.child({ chatId: spec.chatId, turnId: spec.turnId });
    const runner = new TurnRunner(spec, this.store, this.llm, this.options, log, (frame) =>
      this.deliverLocally(spec.chatId, frame),
    );
    this.turns.set(spec.chatId, runner);
    void runner.done.finally(() => {
      if (this.turns.get(spec.chatId) === runner) this.turns.delete(spec.chatId);
    });
  }

  /** A frame the store could not publish, to this replica's own watchers of the chat. */
  private deliverLocally(chatId: string, frame: LiveFrame): void {
    for (const subs of this.subscriptions.values()) subs.get(chatId)?.inject(frame);
    for (const set of this.followers.values()) for (const sub of set) if (sub.chatId === chatId) sub.inject(frame);
  }
}

function withClientMsgId(err: unknown, clientMsgId: string): unknown {
  if (isAppError(err)) Object.assign(err, { clientMsgId });
  return err;
}

/** The `error` frame for a failure; anything that is not an AppError is `internal`. */
export function errorFrame(err: unknown, context: { chatId?: string; clientMsgId?: string } = {}): ErrorFrame {
  const appErr = isAppError(err) ? err : new AppError('internal');
  const frame: ErrorFrame = {
    type: 'error',
    code: appErr.code,
    message: appErr.code === 'internal' ? ErrorCodes.internal.message : appErr.message,
    retryable: appErr.retryable,
  };
  const clientMsgId = (appErr as { clientMsgId?: string }).clientMsgId ?? context.clientMsgId;
  if (context.chatId) frame.chatId = context.chatId;
  if (clientMsgId) frame.clientMsgId = clientMsgId;
  if (appErr.retryAfterMs !== undefined) frame.retryAfterMs = appErr.retryAfterMs;
  if (appErr.detail !== undefined) frame.detail = appErr.detail;
  return frame;
}
