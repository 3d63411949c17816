import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { LiveFrame, Message } from '@ai-chat/protocol';
import type { ChatStore, StoredTurn } from '../store/chat-store.js';
import { metrics } from '../metrics/metrics.js';
import { newId } from './ids.js';
import { turnErrorFrame, type TurnSpec } from './turn-runner.js';

/**
 * Why this replica looks at a turn that may be orphaned (its lease expired, or its
 * producer handed it over while draining):
 * - `join`: a client read the chat (a join, a resend after the live channel came back);
 * - `stop`: a user asked to stop the turn and no replica produces it;
 * - `moved-on`: a new `send` or `regenerate` found the turn in its way;
 * - `handover`: its producer drained and announced the hand-over on the chat's channel;
 * - `watchdog`: a turn a client here watches showed no life for a lease.
 */
export type RepairCause = 'join' | 'stop' | 'moved-on' | 'handover' | 'watchdog';

/** What becomes of an orphaned turn. */
export type OrphanOutcome = 'stopped' | 'interrupted' | 'taken-over';

/**
 * The one rule for an orphaned turn, whoever finds it:
 * 1. a stop was requested → it is ended as `stopped` (its partial text kept, `done`
 *    with `finishReason: "stopped"`), whatever the cause;
 * 2. the user moved on (a new send or regenerate finds it in the way) → it is ended as
 *    `interrupted` (its partial text kept, an `interrupted` error carrying its turnId);
 * 3. otherwise (join, handover, watchdog) → it is taken over: answered again from the
 *    stored conversation under a new turnId, by exactly one replica (the store's fenced
 *    claim; a replica that loses the claim does nothing).
 * Ending is fenced too: only one repair of a turn ends it. A draining replica repairs nothing.
 */
export function orphanOutcome(orphan: StoredTurn, cause: RepairCause): OrphanOutcome {
  if (orphan.stopRequested) return 'stopped';
  if (cause === 'moved-on') return 'interrupted';
  return 'taken-over';
}

/** What recovery needs of the replica's turns and clients. */
export interface RecoveryHost {
  /** Starts producing a turn this replica has claimed. */
  produce(spec: TurnSpec): void;
  /** Whether this replica produces a turn in the chat right now. */
  isProducing(chatId: string): boolean;
  /** Whether a client of this replica has joined the chat. */
  isWatched(chatId: string): boolean;
}

export interface TurnRecoveryOptions {
  serverId: string;
  /** The turn lease; the watchdog looks at watched turns this often. */
  leaseMs: number;
}

/**
 * Turn recovery: the single owner of every repair of an orphaned turn, applying
 * `orphanOutcome`. Callers either hand it a turn they read (`repairIfOrphaned`) or let it
 * read the chat (`repairChat`); the watchdog over the turns this replica's clients watch
 * and the reaction to an announced hand-over live here too. `stop()` (drain) ends it all.
 */
export class TurnRecovery {
  /** Chats watched here whose turn streams: chatId → when it last showed life. */
  private readonly watchedTurns = new Map<string, number>();
  /** Chats whose hand-over this replica is acting on now (one look per chat at a time). */
  private readonly handovers = new Set<string>();
  private readonly watchdog: NodeJS.Timeout;
  private sweeping = false;
  private stopped = false;

  constructor(
    private readonly store: ChatStore,
    private readonly host: RecoveryHost,
    private readonly options: TurnRecoveryOptions,
    private readonly log: Logger,
  ) {
    // A turn watched here that showed no life for a lease is checked: an expired lease
    // means its replica died (or handed it over), and this replica repairs it.
    this.watchdog = setInterval(() => void this.sweepWatchedTurns(), options.leaseMs);
    this.watchdog.unref();
  }

  /**
   * Repairs `turn` (as the caller just read it) by the rule when it is orphaned. True when
   * it was an orphan: the caller's view of the chat is then out of date.
   */
  async repairIfOrphaned(chatId: string, turn: StoredTurn | null, cause: RepairCause): Promise<boolean> {
    if (!turn || turn.leaseAlive) return false;
    await this.repair(chatId, turn, cause);
    return true;
  }

  /** Reads the chat's turn and repairs it by the rule when it is orphaned (with `turnId`: only that turn). */
  async repairChat(chatId: string, cause: RepairCause, turnId?: string): Promise<void> {
    const { turn } = await this.store.snapshot(chatId, 0);
    if (turnId !== undefined && turn?.turnId !== turnId) return;
    await this.repairIfOrphaned(chatId, turn, cause);
  }

  /**
   * A draining replica gave up a turn this replica watches: repair it now rather than
   * after the watchdog's next look (every replica watching tries; one wins the claim).
   */
  onHandover(chatId: string): void {
    if (this.stopped || this.handovers.has(chatId)) return;
    this.handovers.add(chatId);
    void this.repairChat(chatId, 'handover')
      .catch(() => undefined) // the watchdog looks again
      .finally(() => this.handovers.delete(chatId));
  }

  /** A client here was shown the chat's streaming turn: the watchdog now watches it. */
  watch(chatId: string): void {
    this.watchedTurns.set(chatId, Date.now());
  }

  /** A live frame reached a client here: the turn showed life, or ended. */
  noteLiveFrame(chatId: string, frame: LiveFrame): void {
    if (frame.type === 'done' || frame.type === 'error') this.watchedTurns.delete(chatId);
    else this.watchedTurns.set(chatId, Date.now());
  }

  /** The replica drains: no repair from now on, and the watchdog stops. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
  }

  /** Applies the rule to an orphan. */
  private async repair(chatId: string, orphan: StoredTurn, cause: RepairCause): Promise<void> {
    if (this.stopped) return;
    const outcome = orphanOutcome(orphan, cause);
    if (outcome === 'taken-over') await this.takeOver(chatId, orphan, cause);
    else await this.end(chatId, orphan, outcome, cause);
  }

  /** Claims the orphan under a new turnId and answers its `replyTo` again; a lost claim does nothing. */
  private async takeOver(chatId: string, orphan: StoredTurn, cause: RepairCause): Promise<void> {
    const turnId = newId('t');
    const claimed = await this.store.takeOver(chatId, orphan.turnId, { turnId, owner: this.options.serverId });
    if (!claimed) return;
    metrics.takeover();
    this.log.info({ chatId, oldTurnId: orphan.turnId, turnId, cause }, 'orphaned turn taken over');
    this.host.produce({ chatId, turnId, replyTo: claimed.replyTo, replaces: claimed.replaces });
  }

  /** Ends the orphan as stopped or interrupted, storing its partial text. */
  private async end(chatId: string, orphan: StoredTurn, outcome: 'stopped' | 'interrupted', cause: RepairCause): Promise<void> {
    const stopped = outcome === 'stopped';
    const id = newId('m');
    // A regenerate that did not finish stores nothing, unless stopped (its partial text then replaces).
    const message: Message | null =
      stopped || orphan.replaces === null
        ? { id, role: 'model', text: orphan.text, createdAt: Date.now(), status: outcome }
        : null;
    const frame: LiveFrame = stopped
      ? { type: 'done', chatId, turnId: orphan.turnId, messageId: id, reply: orphan.text, finishReason: 'stopped' }
      : turnErrorFrame(new AppError('interrupted'), chatId, orphan.turnId, message?.id);
    const ok = await this.store.endTurn(chatId, {
      turnId: orphan.turnId,
      mode: 'orphan',
      message,
      replaces: stopped ? orphan.replaces : null,
      frame,
    });
    if (ok) this.log.info({ chatId, turnId: orphan.turnId, status: outcome, cause }, 'orphaned turn ended');
  }

  /** Checks the watched turns that showed no life for a lease; repairs those whose lease expired. */
  private async sweepWatchedTurns(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      const stale = Date.now() - this.options.leaseMs;
      for (const [chatId, seenAt] of this.watchedTurns) {
        if (seenAt > stale || this.host.isProducing(chatId)) continue;
        if (!this.host.isWatched(chatId)) {
          this.watchedTurns.delete(chatId);
          continue;
        }
        const snap = await this.store.snapshot(chatId, 0).catch(() => null);
        if (!snap) continue; // the store is away: next sweep
        if (!snap.turn) this.watchedTurns.delete(chatId);
        else if (snap.turn.leaseAlive) this.watchedTurns.set(chatId, Date.now());
        else await this.repair(chatId, snap.turn, 'watchdog').catch(() => undefined);
      }
    } finally {
      this.sweeping = false;
    }
  }
}
