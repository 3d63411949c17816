import { AppError } from '../errors.js';
import type { Message } from '@ai-chat/protocol';
import type {
  BeginRegenerate,
  BeginResult,
  BeginSend,
  ChatSnapshot,
  ChatStore,
  EndTurn,
  LiveEnvelope,
  StoredTurn,
  TurnSignal,
} from './chat-store.js';
import { toEnvelope, type LiveEvent } from './live-event.js';
import { isSqliteError, openSqlite, type SqliteDatabase } from './sqlite.js';
import { MemoryRateLimiter, type RateRule, type RetryAfterMs } from './rate-limit.js';

export interface EmbeddedChatStoreOptions {
  ttlSeconds: number;
  maxMessages: number;
  leaseMs: number;
}

/** How far behind the disk a streaming reply's text may fall after a power loss. */
const SYNC_INTERVAL_MS = 1000;
/** How often chats past their TTL are deleted (a chat is also dropped when touched after it). */
const SWEEP_INTERVAL_MS = 60_000;

/** Raised with every change of the tables below; kept in `meta`, so a file tells which tables it has. */
const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chats (
  chat_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  ev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chats_by_expiry ON chats (expires_at);
CREATE TABLE IF NOT EXISTS messages (
  chat_id TEXT NOT NULL REFERENCES chats ON DELETE CASCADE,
  pos INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (chat_id, pos)
);
CREATE TABLE IF NOT EXISTS idem (
  chat_id TEXT NOT NULL REFERENCES chats ON DELETE CASCADE,
  client_msg_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (chat_id, client_msg_id)
);
CREATE TABLE IF NOT EXISTS turns (
  chat_id TEXT PRIMARY KEY REFERENCES chats ON DELETE CASCADE,
  turn_id TEXT NOT NULL,
  reply_to TEXT NOT NULL,
  replaces TEXT,
  owner TEXT NOT NULL,
  seq INTEGER NOT NULL,
  stop INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deltas (
  chat_id TEXT NOT NULL REFERENCES turns ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (chat_id, seq)
);
`;

interface TurnRow {
  turn_id: string;
  reply_to: string;
  replaces: string | null;
  owner: string;
  seq: number;
  stop: number;
}

/** What a write step hands back: its result, and the event to publish once it committed. */
interface Step<T> {
  result: T;
  event?: LiveEvent;
}

/**
 * The embedded store: SQLite through better-sqlite3, for one process with no Redis. On a
 * file it keeps chats across restarts and crashes; on ':memory:' (tests, benchmarks) it
 * keeps them in the process. Same semantics as the Redis store for a single process:
 *
 * - durability: WAL; a step that stores a user message (beginTurn) or a model message
 *   (endTurn) commits with synchronous=FULL, so it is on disk before the call resolves
 *   (the ack follows it). Every other write (deltas, TTL touches) commits with NORMAL: it
 *   reaches the OS at once, so a crash of the process loses nothing; a timer syncs them
 *   within a second, so after a power loss a streaming reply is at most a second behind.
 * - leases live in this process only: after a restart or a crash every unfinished turn
 *   has no lease, so it is an orphan that the next join repairs, as with Redis.
 * - one process only: the database is locked exclusively while open.
 * - live events go through an in-process emitter, delivered asynchronously in order.
 */
export class EmbeddedChatStore implements ChatStore {
  private readonly db: SqliteDatabase;
  private readonly onDisk: boolean;
  private readonly leases = new Map<string, { turnId: string; expiresAt: number }>();
  private readonly listeners = new Map<string, Set<(e: LiveEnvelope) => void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly rates = new MemoryRateLimiter();
  /** NORMAL commits not yet synced to disk. */
  private unsynced = false;
  private closed = false;
  private readonly sql;

  /**
   * Opens the store in `file` (created with its tables when new), or in memory with
   * ':memory:'. Throws an error naming the cause when the file is used by another process.
   */
  static open(file: string, options: EmbeddedChatStoreOptions): EmbeddedChatStore {
    const db = openSqlite(file);
    try {
      // Held from the first write until close: a second process fails on its first access.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.exec(SCHEMA);
      db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)`).run(String(SCHEMA_VERSION));
      db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_at', ?)`).run(String(Date.now()));
    } catch (err) {
      db.close();
      if (isSqliteError(err) && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) {
        throw new Error(
          `${file} is in use by another ai-server process: the embedded store allows one process ` +
            'only. Stop the other one, give this one another DATA_DIR, or set REDIS_URL to run several.',
          { cause: err },
        );
      }
      throw err;
    }
    return new EmbeddedChatStore(db, file !== ':memory:', options);
  }

  private constructor(
    db: SqliteDatabase,
    onDisk: boolean,
    private readonly options: EmbeddedChatStoreOptions,
  ) {
    this.db = db;
    this.onDisk = onDisk;
    this.sql = {
      chat: db.prepare<[string], { expires_at: number; ev: number }>('SELECT expires_at, ev FROM chats WHERE chat_id = ?'),
      createChat: db.prepare<[string, number]>('INSERT INTO chats (chat_id, expires_at) VALUES (?, ?)'),
      dropChat: db.prepare<[string]>('DELETE FROM chats WHERE chat_id = ?'),
      touch: db.prepare<[number, string]>('UPDATE chats SET expires_at = ? WHERE chat_id = ?'),
      nextEv: db.prepare<[string], { ev: number }>('UPDATE chats SET ev = ev + 1 WHERE chat_id = ? RETURNING ev'),
      expired: db.prepare<[number], { chat_id: string }>('SELECT chat_id FROM chats WHERE expires_at <= ?'),
      newest: db.prepare<[string, number], { body: string }>('SELECT body FROM messages WHERE chat_id = ? ORDER BY pos DESC LIMIT ?'),
      newestFirst: db.prepare<[string], { pos: number; body: string }>('SELECT pos, body FROM messages WHERE chat_id = ? ORDER BY pos DESC'),
      span: db.prepare<[string], { first: number | null; last: number | null }>(
        'SELECT MIN(pos) AS first, MAX(pos) AS last FROM messages WHERE chat_id = ?',
      ),
      append: db.prepare<[string, number, string]>('INSERT INTO messages (chat_id, pos, body) VALUES (?, ?, ?)'),
      replace: db.prepare<[string, string, number]>('UPDATE messages SET body = ? WHERE chat_id = ? AND pos = ?'),
      trim: db.prepare<[string, number]>('DELETE FROM messages WHERE chat_id = ? AND pos <= ?'),
      idem: db.prepare<[string, string], { message_id: string }>('SELECT message_id FROM idem WHERE chat_id = ? AND client_msg_id = ?'),
      remember: db.prepare<[string, string, string]>('INSERT INTO idem (chat_id, client_msg_id, message_id) VALUES (?, ?, ?)'),
      turn: db.prepare<[string], TurnRow>('SELECT turn_id, reply_to, replaces, owner, seq, stop FROM turns WHERE chat_id = ?'),
      openTurn: db.prepare<[string, string, string, string | null, string]>(
        'INSERT INTO turns (chat_id, turn_id, reply_to, replaces, owner, seq, stop) VALUES (?, ?, ?, ?, ?, 0, 0)',
      ),
      claimTurn: db.prepare<[string, string, string]>('UPDATE turns SET turn_id = ?, owner = ?, seq = 0, stop = 0 WHERE chat_id = ?'),
      nextSeq: db.prepare<[string], { seq: number; stop: number }>('UPDATE turns SET seq = seq + 1 WHERE chat_id = ? RETURNING seq, stop'),
      askStop: db.prepare<[string]>('UPDATE turns SET stop = 1 WHERE chat_id = ?'),
      closeTurn: db.prepare<[string]>('DELETE FROM turns WHERE chat_id = ?'),
      addDelta: db.prepare<[string, number, string]>('INSERT INTO deltas (chat_id, seq, text) VALUES (?, ?, ?)'),
      clearDeltas: db.prepare<[string]>('DELETE FROM deltas WHERE chat_id = ?'),
      text: db.prepare<[string], { text: string }>('SELECT text FROM deltas WHERE chat_id = ? ORDER BY seq'),
      synced: db.prepare<[string]>(`INSERT OR REPLACE INTO meta (key, value) VALUES ('synced_at', ?)`),
    };
    if (onDisk) this.timers.push(setInterval(() => this.background(() => this.sync()), SYNC_INTERVAL_MS));
    this.timers.push(setInterval(() => this.background(() => this.sweep()), SWEEP_INTERVAL_MS));
    for (const timer of this.timers) timer.unref();
  }

  // ---- the ChatStore seam -----------------------------------------------------------

  async ping(): Promise<void> {
    this.guard(() => this.db.prepare('SELECT 1').get());
  }

  async snapshot(chatId: string, maxMessages: number): Promise<ChatSnapshot> {
    return this.write(chatId, () => {
      const chat = this.live(chatId);
      if (!chat) return { result: { messages: [], total: 0, turn: null, ev: 0 } };
      this.sql.touch.run(this.expiry(), chatId);
      const { first, last } = expectRow(this.sql.span.get(chatId), 'message span');
      const rows = maxMessages > 0 ? this.sql.newest.all(chatId, maxMessages) : [];
      const row = this.sql.turn.get(chatId);
      const turn: StoredTurn | null = row
        ? {
            turnId: row.turn_id,
            replyTo: row.reply_to,
            replaces: row.replaces,
            text: this.turnText(chatId),
            seq: row.seq,
            owner: row.owner,
            leaseAlive: this.leaseHolder(chatId) !== null,
            stopRequested: row.stop === 1,
          }
        : null;
      return {
        result: {
          messages: rows.reverse().map(parseMessage),
          total: first === null || last === null ? 0 : last - first + 1,
          turn,
          ev: chat.ev,
        },
      };
    });
  }

  async recentMessages(chatId: string, maxChars: number): Promise<Message[]> {
    return this.guard(() => {
      if (!this.live(chatId)) return [];
      const out: Message[] = [];
      let chars = 0;
      for (const row of this.sql.newestFirst.iterate(chatId)) {
        if (chars >= maxChars) break;
        const m = parseMessage(row);
        out.push(m);
        chars += m.text.length;
      }
      return out.reverse();
    });
  }

  async isRecorded(chatId: string, clientMsgId: string): Promise<boolean> {
    return this.guard(() => this.live(chatId) !== null && this.sql.idem.get(chatId, clientMsgId) !== undefined);
  }

  async takeToken(key: string, rule: RateRule): Promise<RetryAfterMs> {
    return this.guard(() => this.rates.take(key, rule));
  }

  async beginTurn(
    chatId: string,
    begin: BeginSend | BeginRegenerate,
    turn: { turnId: string; owner: string },
  ): Promise<BeginResult> {
    const result = this.write(chatId, (): Step<BeginResult> => {
      const chat = this.live(chatId);
      const existing = chat && this.sql.idem.get(chatId, begin.clientMsgId);
      if (existing) {
        this.sql.touch.run(this.expiry(), chatId);
        return { result: { kind: 'duplicate', messageId: existing.message_id } };
      }
      if (chat && this.sql.turn.get(chatId)) {
        return { result: { kind: this.leaseHolder(chatId) ? 'busy' : 'orphan' } };
      }
      let replyTo = '';
      let replaces: string | null = null;
      if (begin.kind === 'send') {
        if (!chat) this.sql.createChat.run(chatId, this.expiry());
        this.appendMessage(chatId, begin.message);
        replyTo = begin.message.id;
      } else {
        for (const row of chat ? this.sql.newestFirst.iterate(chatId) : []) {
          const m = parseMessage(row);
          if (m.role === 'user') {
            replyTo = m.id;
            break;
          }
          replaces ??= m.id;
        }
        if (!replyTo) return { result: { kind: 'nothing' } };
      }
      this.sql.remember.run(chatId, begin.clientMsgId, replyTo);
      this.sql.openTurn.run(chatId, turn.turnId, replyTo, replaces, turn.owner);
      this.sql.touch.run(this.expiry(), chatId);
      return {
        result: { kind: 'started', messageId: replyTo, replyTo, replaces },
        event: { ev: this.nextEv(chatId), kind: 'start', turnId: turn.turnId, replyTo, replaces },
      };
    }, true);
    if (result.kind === 'started') this.lease(chatId, turn.turnId);
    return result;
  }

  async appendDelta(chatId: string, turnId: string, text: string): Promise<{ signal: TurnSignal; seq: number }> {
    if (this.leaseHolder(chatId) !== turnId) return { signal: 'fenced', seq: 0 };
    return this.write(chatId, () => {
      const { seq, stop } = expectRow(this.sql.nextSeq.get(chatId), 'turn');
      this.sql.addDelta.run(chatId, seq, text);
      return {
        result: { signal: stop === 1 ? 'stop' : 'ok', seq },
        event: { ev: this.nextEv(chatId), kind: 'delta', turnId, seq, text },
      };
    });
  }

  async renewLease(chatId: string, turnId: string): Promise<TurnSignal> {
    if (this.leaseHolder(chatId) !== turnId) return 'fenced';
    this.lease(chatId, turnId);
    return this.write(chatId, () => {
      this.sql.touch.run(this.expiry(), chatId);
      return { result: this.sql.turn.get(chatId)?.stop === 1 ? 'stop' : 'ok' };
    });
  }

  async endTurn(chatId: string, end: EndTurn): Promise<boolean> {
    const holder = this.leaseHolder(chatId);
    if (end.mode === 'owner' ? holder !== end.turnId : holder !== null) return false;
    const ended = this.write(chatId, (): Step<boolean> => {
      if (!this.live(chatId) || this.sql.turn.get(chatId)?.turn_id !== end.turnId) return { result: false };
      if (end.message) {
        const last = this.sql.newestFirst.get(chatId);
        if (end.replaces && last && parseMessage(last).id === end.replaces) {
          this.sql.replace.run(JSON.stringify(end.message), chatId, last.pos);
        } else {
          this.appendMessage(chatId, end.message);
        }
      }
      this.sql.closeTurn.run(chatId);
      this.sql.touch.run(this.expiry(), chatId);
      return { result: true, event: { ev: this.nextEv(chatId), kind: 'end', frame: end.frame } };
    }, true);
    if (ended) this.leases.delete(chatId);
    return ended;
  }

  async releaseTurn(chatId: string, turnId: string): Promise<void> {
    if (this.leaseHolder(chatId) !== turnId) return;
    this.leases.delete(chatId);
    this.publish(chatId, { ev: 0, kind: 'handover', turnId });
  }

  async takeOver(
    chatId: string,
    oldTurnId: string,
    turn: { turnId: string; owner: string },
  ): Promise<StoredTurn | null> {
    if (this.leaseHolder(chatId) !== null) return null;
    const taken = this.write(chatId, (): Step<StoredTurn | null> => {
      const row = this.live(chatId) && this.sql.turn.get(chatId);
      if (row?.turn_id !== oldTurnId) return { result: null };
      this.sql.claimTurn.run(turn.turnId, turn.owner, chatId);
      this.sql.clearDeltas.run(chatId);
      this.sql.touch.run(this.expiry(), chatId);
      const { reply_to: replyTo, replaces } = row;
      return {
        result: { turnId: turn.turnId, replyTo, replaces, text: '', seq: 0, owner: turn.owner, leaseAlive: true, stopRequested: false },
        event: { ev: this.nextEv(chatId), kind: 'start', turnId: turn.turnId, replyTo, replaces },
      };
    });
    if (taken) this.lease(chatId, turn.turnId);
    return taken;
  }

  async requestStop(chatId: string): Promise<string | null> {
    return this.write(chatId, (): Step<string | null> => {
      const row = this.live(chatId) && this.sql.turn.get(chatId);
      if (!row) return { result: null };
      this.sql.askStop.run(chatId);
      return { result: row.turn_id, event: { ev: 0, kind: 'stop', turnId: row.turn_id } };
    });
  }

  async subscribe(chatId: string, listener: (envelope: LiveEnvelope) => void): Promise<() => void> {
    let set = this.listeners.get(chatId);
    if (!set) {
      set = new Set();
      this.listeners.set(chatId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(chatId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(chatId);
    };
  }

  onResubscribed(): void {
    // The in-process channel is never lost.
  }

  /** Stops the timers and closes the database: every commit is already in it, nothing is lost. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.listeners.clear();
    this.leases.clear();
    this.db.close();
  }

  // ---- internals ----------------------------------------------------------------------

  /**
   * Runs `step` in one transaction, then publishes its event. `durable`: the commit is
   * synced to disk before this returns (synchronous=FULL).
   */
  private write<T>(chatId: string, step: () => Step<T>, durable = false): T {
    return this.guard(() => {
      const sync = durable && this.onDisk;
      if (sync) this.db.pragma('synchronous = FULL');
      let done: Step<T>;
      try {
        done = this.db.transaction(step)();
      } finally {
        if (sync) this.db.pragma('synchronous = NORMAL');
      }
      // A FULL commit syncs the whole log, the NORMAL commits before it included.
      this.unsynced = !sync;
      if (done.event) this.publish(chatId, done.event);
      return done.result;
    });
  }

  /** A store failure (disk full, I/O error, closed) reaches callers as store_unavailable. */
  private guard<T>(fn: () => T): T {
    if (this.closed) throw new AppError('store_unavailable', 'The chat store is closed.');
    try {
      return fn();
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (isSqliteError(err)) throw new AppError('store_unavailable', undefined, { cause: err });
      throw err;
    }
  }

  /** A timer's work: a failure here is reported by the next write that meets it. */
  private background(fn: () => void): void {
    try {
      fn();
    } catch {
      // The disk is full or failing: the calls of the chat service get store_unavailable.
    }
  }

  /** The chat's row, or null when it does not exist or its TTL ran out (then it is deleted). */
  private live(chatId: string): { ev: number } | null {
    const chat = this.sql.chat.get(chatId);
    if (!chat) return null;
    if (chat.expires_at > Date.now()) return chat;
    this.sql.dropChat.run(chatId);
    this.leases.delete(chatId);
    return null;
  }

  private expiry(): number {
    return Date.now() + this.options.ttlSeconds * 1000;
  }

  private nextEv(chatId: string): number {
    return expectRow(this.sql.nextEv.get(chatId), 'chat').ev;
  }

  private appendMessage(chatId: string, message: Message): void {
    const pos = (expectRow(this.sql.span.get(chatId), 'message span').last ?? 0) + 1;
    this.sql.append.run(chatId, pos, JSON.stringify(message));
    this.sql.trim.run(chatId, pos - this.options.maxMessages);
  }

  private turnText(chatId: string): string {
    return this.sql.text
      .all(chatId)
      .map((d) => d.text)
      .join('');
  }

  private lease(chatId: string, turnId: string): void {
    this.leases.set(chatId, { turnId, expiresAt: Date.now() + this.options.leaseMs });
  }

  private leaseHolder(chatId: string): string | null {
    const lease = this.leases.get(chatId);
    if (!lease) return null;
    if (lease.expiresAt > Date.now()) return lease.turnId;
    this.leases.delete(chatId);
    return null;
  }

  private publish(chatId: string, event: LiveEvent): void {
    const set = this.listeners.get(chatId);
    if (!set) return;
    // Redis delivers published messages asynchronously; so do we, in order.
    const targets = [...set];
    const envelope = toEnvelope(chatId, event);
    queueMicrotask(() => {
      for (const listener of targets) listener(envelope);
    });
  }

  private sync(): void {
    if (!this.unsynced) return;
    this.db.pragma('synchronous = FULL');
    try {
      this.sql.synced.run(String(Date.now()));
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
    this.unsynced = false;
  }

  /** Deletes the chats past their TTL, except one whose turn still holds a lease; forgets lapsed leases. */
  private sweep(): void {
    for (const chatId of [...this.leases.keys()]) this.leaseHolder(chatId);
    const expired = this.sql.expired.all(Date.now()).filter((c) => this.leaseHolder(c.chat_id) === null);
    if (expired.length === 0) return;
    this.db.transaction(() => {
      for (const c of expired) this.sql.dropChat.run(c.chat_id);
    })();
    this.unsynced = true;
  }
}

function parseMessage(row: { body: string }): Message {
  return JSON.parse(row.body) as Message;
}

/** The row a statement always yields: an aggregate, or RETURNING on a row the step knows exists. */
function expectRow<T>(row: T | undefined, what: string): T {
  if (row === undefined) throw new Error(`the embedded store found no ${what} row`);
  return row;
}
