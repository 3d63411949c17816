import type { Logger } from 'pino';
import { AppError, ErrorCodes, isAppError } from '../errors.js';
import type { LlmProvider } from '../llm/llm-provider.js';
import type { ErrorFrame, HistoryFrame, LiveFrame, Message } from '../protocol/frames.js';
import type { BeginRegenerate, BeginResult, BeginSend, ChatStore, StoredTurn } from '../store/chat-store.js';
import type { ClientSink } from './client-sink.js';
import { newId } from './ids.js';
import { LiveSubscription } from './live-subscription.js';
import { TurnRunner, turnErrorFrame, type TurnSettings } from './turn-runner.js';

export interface ChatServiceOptions extends TurnSettings {
  serverId: string;
  /** Budget of one `history` frame in bytes. */
  historyBudgetBytes: number;
}

/** How many stored messages a `history` frame considers before the byte budget. */
const HISTORY_MAX_MESSAGES = 2000;

/**
 * The use cases of protocol v1: join, leave, send, stop, regenerate, and the repair of
 * orphaned turns. Knows nothing of sockets: clients are `ClientSink`s.
 */
export class ChatService {
  private readonly turns = new Map<string, TurnRunner>();
  private readonly subscriptions = new Map<ClientSink, Map<string, LiveSubscription>>();
  private draining = false;

  constructor(
    private readonly store: ChatStore,
    private readonly llm: LlmProvider,
    private readonly options: ChatServiceOptions,
    private readonly log: Logger,
  ) {
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

  /** Turns this replica is producing now. */
  get activeTurns(): number {
    return this.turns.size;
  }

  /** Subscribes the client to the chat and sends it a `history` frame, then the live frames. */
  async join(sink: ClientSink, chatId: string): Promise<void> {
    const existing = this.subscriptions.get(sink)?.get(chatId);
    const sub = existing ?? this.newSubscription(sink, chatId);
    if (!existing) {
      try {
        await sub.open(true);
      } catch (err) {
        this.dropSubscription(sink, chatId);
        throw err;
      }
    }
    await this.resync(sink, sub);
  }

  leave(sink: ClientSink, chatId: string): void {
    this.dropSubscription(sink, chatId);
  }

  /** The client is gone: drop all its subscriptions (its turns go on). */
  detach(sink: ClientSink): void {
    for (const sub of this.subscriptions.get(sink)?.values() ?? []) sub.close();
    this.subscriptions.delete(sink);
  }

  async send(sink: ClientSink, chatId: string, clientMsgId: string, text: string): Promise<void> {
    await this.ensureLive(sink, chatId);
    const message: Message = { id: newId('m'), role: 'user', text, createdAt: Date.now(), status: 'complete' };
    await this.begin(sink, chatId, { kind: 'send', clientMsgId, message });
  }

  async regenerate(sink: ClientSink, chatId: string, clientMsgId: string): Promise<void> {
    await this.ensureLive(sink, chatId);
    await this.begin(sink, chatId, { kind: 'regenerate', clientMsgId });
  }

  /**
   * The original plan's frame: one `{chatId, reply}` frame per message (or one `error`),
   * and nothing unasked.
   */
  async sendLegacy(sink: ClientSink, chatId: string, text: string): Promise<void> {
    const clientMsgId = newId('l');
    const turnId = newId('t');
    const message: Message = { id: newId('m'), role: 'user', text, createdAt: Date.now(), status: 'complete' };
    const sub = new LiveSubscription(this.store, chatId, (frame) => {
      if (!('turnId' in frame) || frame.turnId !== turnId) return;
      if (frame.type === 'done') {
        sub.close();
        sink.send({
          type: 'done',
          chatId,
          reply: frame.reply,
          turnId,
          messageId: frame.messageId,
          finishReason: frame.finishReason,
        });
      } else if (frame.type === 'error') {
        sub.close();
        sink.send(frame);
      }
    });
    await sub.open(false);
    try {
      const result = await this.beginWithRepair(chatId, { kind: 'send', clientMsgId, message }, turnId);
      if (result.kind !== 'started') {
        sub.close();
        throw new AppError(result.kind === 'busy' ? 'busy' : 'internal');
      }
      this.startTurn({ chatId, turnId, replyTo: result.replyTo, replaces: null, startPublished: false });
    } catch (err) {
      sub.close();
      throw err;
    }
  }

  /** Asks the turn streaming in the chat to stop, wherever it is produced. No turn: nothing happens. */
  async stop(chatId: string): Promise<void> {
    const turnId = await this.store.requestStop(chatId);
    const local = this.turns.get(chatId);
    if (turnId && local?.turnId === turnId) local.abort('stop');
  }

  /**
   * Drains: lets this replica's turns finish for up to `graceMs`, then hands the rest over
   * (their lease released, so another replica or the next join repairs them).
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
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
    for (const sink of [...this.subscriptions.keys()]) this.detach(sink);
  }

  // ---------------------------------------------------------------------------------

  private newSubscription(sink: ClientSink, chatId: string): LiveSubscription {
    const sub = new LiveSubscription(this.store, chatId, (frame) => sink.send(frame));
    let subs = this.subscriptions.get(sink);
    if (!subs) {
      subs = new Map();
      this.subscriptions.set(sink, subs);
    }
    subs.set(chatId, sub);
    return sub;
  }

  private dropSubscription(sink: ClientSink, chatId: string): void {
    const subs = this.subscriptions.get(sink);
    subs?.get(chatId)?.close();
    subs?.delete(chatId);
    if (subs?.size === 0) this.subscriptions.delete(sink);
  }

  /** A `send` implies a join for the live frames, without a `history` frame. */
  private async ensureLive(sink: ClientSink, chatId: string): Promise<void> {
    if (this.subscriptions.get(sink)?.has(chatId)) return;
    const sub = this.newSubscription(sink, chatId);
    try {
      await sub.open(false);
    } catch (err) {
      this.dropSubscription(sink, chatId);
      throw err;
    }
  }

  /** Holds the live frames, reads a snapshot (repairing an orphaned turn), sends `history`, releases. */
  private async resync(sink: ClientSink, sub: LiveSubscription): Promise<void> {
    const { chatId } = sub;
    sub.hold();
    try {
      let snap = await this.store.snapshot(chatId, HISTORY_MAX_MESSAGES);
      if (snap.turn && !snap.turn.leaseAlive) {
        await this.repair(chatId, snap.turn, 'takeover');
        snap = await this.store.snapshot(chatId, HISTORY_MAX_MESSAGES);
      }
      sink.send(this.historyFrame(chatId, snap.messages, snap.total, snap.turn));
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

  private async begin(sink: ClientSink, chatId: string, begin: BeginSend | BeginRegenerate): Promise<void> {
    const { clientMsgId } = begin;
    const turnId = newId('t');
    const result = await this.beginWithRepair(chatId, begin, turnId).catch((err: unknown) => {
      throw withClientMsgId(err, clientMsgId);
    });
    switch (result.kind) {
      case 'started':
        sink.send({ type: 'ack', chatId, clientMsgId, messageId: result.messageId, duplicate: false });
        this.startTurn({ chatId, turnId, replyTo: result.replyTo, replaces: result.replaces, startPublished: false });
        return;
      case 'duplicate': {
        sink.send({ type: 'ack', chatId, clientMsgId, messageId: result.messageId, duplicate: true });
        const sub = this.subscriptions.get(sink)?.get(chatId);
        if (sub) await this.resync(sink, sub);
        return;
      }
      case 'busy':
        throw withClientMsgId(new AppError('busy'), clientMsgId);
      case 'nothing':
        throw withClientMsgId(new AppError('bad_request', 'There is no user message to answer again.'), clientMsgId);
      case 'orphan':
        throw withClientMsgId(new AppError('busy'), clientMsgId);
    }
  }

  /** `beginTurn`, first marking an orphaned turn interrupted when one is in the way. */
  private async beginWithRepair(chatId: string, begin: BeginSend | BeginRegenerate, turnId: string): Promise<BeginResult> {
    if (this.draining) throw new AppError('internal', 'this replica is shutting down');
    const turn = { turnId, owner: this.options.serverId };
    const result = await this.store.beginTurn(chatId, begin, turn);
    if (result.kind !== 'orphan') return result;
    const snap = await this.store.snapshot(chatId, 0);
    if (snap.turn && !snap.turn.leaseAlive) await this.repair(chatId, snap.turn, 'interrupt');
    return this.store.beginTurn(chatId, begin, turn);
  }

  /**
   * An orphaned turn (its producer died or handed it over): taken over by this replica,
   * or, when the user has moved on, ended as `interrupted` with its partial text.
   */
  private async repair(chatId: string, orphan: StoredTurn, how: 'takeover' | 'interrupt'): Promise<void> {
    if (how === 'takeover') {
      if (this.draining) return;
      const turnId = newId('t');
      const claimed = await this.store.takeOver(chatId, orphan.turnId, { turnId, owner: this.options.serverId });
      if (claimed) {
        this.log.info({ chatId, oldTurnId: orphan.turnId, turnId }, 'orphaned turn taken over');
        this.startTurn({ chatId, turnId, replyTo: claimed.replyTo, replaces: claimed.replaces, startPublished: true });
      }
      return;
    }
    const message: Message | null =
      orphan.replaces === null
        ? { id: newId('m'), role: 'model', text: orphan.text, createdAt: Date.now(), status: 'interrupted' }
        : null;
    const frame = turnErrorFrame(new AppError('interrupted'), chatId, orphan.turnId, message?.id);
    const ok = await this.store.endTurn(chatId, {
      turnId: orphan.turnId,
      mode: 'orphan',
      message,
      replaces: null,
      frame,
    });
    if (ok) this.log.info({ chatId, turnId: orphan.turnId }, 'orphaned turn marked interrupted');
  }

  private startTurn(spec: ConstructorParameters<typeof TurnRunner>[0]): void {
    const log = this.log.child({ chatId: spec.chatId, turnId: spec.turnId });
    const runner = new TurnRunner(spec, this.store, this.llm, this.options, log, (frame) =>
      this.deliverLocally(spec.chatId, frame),
    );
    this.turns.set(spec.chatId, runner);
    void runner.done.finally(() => {
      if (this.turns.get(spec.chatId) === runner) this.turns.delete(spec.chatId);
    });
  }

  private deliverLocally(chatId: string, frame: LiveFrame): void {
    for (const [sink, subs] of this.subscriptions) if (subs.has(chatId)) sink.send(frame);
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
  return frame;
}
