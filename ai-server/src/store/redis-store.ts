import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Message } from '@ai-chat/protocol';
import { AppError } from '../errors.js';
import { metrics } from '../metrics/metrics.js';
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
import { chatChannel, chatKeys, keyList } from './keys.js';
import { parseLiveEvent, toEnvelope } from './live-event.js';
import * as lua from './lua.js';
import type { RateRule, RetryAfterMs } from './rate-limit.js';
import { RATE_TAKE } from './rate-limit-lua.js';

export interface RedisChatStoreOptions {
  url?: string;
  clusterNodes?: readonly { host: string; port: number }[];
  /** Prepended to every key and channel (tests use a unique one each). */
  keyPrefix?: string;
  ttlSeconds: number;
  maxMessages: number;
  leaseMs: number;
  /** Per-command timeout; keeps a `send` under 2 s while Redis is down. */
  commandTimeoutMs?: number;
  logger: Logger;
}

type Client = Redis | Cluster;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

const SCRIPTS = {
  chatBegin: lua.BEGIN,
  chatDelta: lua.DELTA,
  chatRenew: lua.RENEW,
  chatEnd: lua.END,
  chatRelease: lua.RELEASE,
  chatTakeover: lua.TAKEOVER,
  chatStop: lua.STOP,
  chatSnapshot: lua.SNAPSHOT,
} as const;
type ScriptName = keyof typeof SCRIPTS;
/** A script's own arguments, by name. */
type ScriptArgs<N extends ScriptName> =
  (typeof SCRIPTS)[N] extends lua.LuaScript<infer A> ? Record<A, string | number> : never;

/** Longest wait for a connection being (re)established before a command is tried. */
const READY_WAIT_MS = 700;

/** Longest wait for a live channel's subscription (keeps a join or send under 2 s with Redis away). */
const SUBSCRIBE_TIMEOUT_MS = 1000;

/** How many messages `recentMessages` reads per round trip, newest first. */
const CONTEXT_PAGE = 200;

/**
 * The Redis implementation of the store: one command connection (scripts, reads) and one
 * subscriber connection for the chats' live channels.
 */
export class RedisChatStore implements ChatStore {
  private readonly client: Client;
  private readonly sub: Client;
  private readonly prefix: string;
  /** Per channel: its chat and the listeners subscribed to it. */
  private readonly listeners = new Map<string, { chatId: string; set: Set<(e: LiveEnvelope) => void> }>();
  /** The SUBSCRIBE of each channel, which every listener of that channel waits for. */
  private readonly subscribing = new Map<string, Promise<void>>();
  private readonly resubscribed = new Set<() => void>();
  private subLost = false;

  constructor(private readonly options: RedisChatStoreOptions) {
    this.prefix = options.keyPrefix ?? '';
    const timeout = options.commandTimeoutMs ?? 1500;
    const common: RedisOptions = {
      // Fail fast while Redis is away: no offline queue, one retry, a command timeout;
      // reconnect forever in the background so the replica recovers by itself.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: timeout,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    };
    const clusterNodes = options.clusterNodes;
    if (clusterNodes) {
      const cluster = () =>
        new Cluster([...clusterNodes], {
          redisOptions: common,
          enableOfflineQueue: false,
          clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
        });
      this.client = cluster();
      this.sub = cluster();
    } else {
      this.client = new Redis(options.url ?? 'redis://127.0.0.1:6379', common);
      // The subscriber may queue its (re)subscriptions while reconnecting.
      this.sub = new Redis(options.url ?? 'redis://127.0.0.1:6379', {
        ...common,
        enableOfflineQueue: true,
        commandTimeout: undefined,
      });
    }
    const numberOfKeys = keyList(chatKeys('', '')).length;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      this.client.defineCommand(name, { numberOfKeys, lua: script.lua });
    }
    this.client.defineCommand('rateTake', { numberOfKeys: 1, lua: RATE_TAKE });
    this.client.on('error', (err: Error) => this.logConnectionError('command', err));
    this.sub.on('error', (err: Error) => this.logConnectionError('subscriber', err));
    this.sub.on('close', () => {
      if (this.listeners.size > 0) this.subLost = true;
    });
    this.sub.on('ready', () => {
      if (!this.subLost) return;
      this.subLost = false;
      for (const listener of this.resubscribed) listener();
    });
    this.sub.on('message', (channel: string, payload: string) => this.dispatch(channel, payload));
  }

  private lastErrorLog = 0;
  private logConnectionError(which: string, err: Error): void {
    // ioredis emits an error per reconnect attempt; one line per 10 s is enough.
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.options.logger.warn({ connection: which, err: err.message }, 'redis connection error');
  }

  private lastOomLog = 0;
  /** The store's error for a failed command, counted; out of memory also gets its own line (one per 10 s). */
  private storeError(err: unknown): AppError {
    const error = toStoreError(err);
    if (error.code === 'internal') metrics.redisFailure('script');
    else if (isOutOfMemory(err)) {
      metrics.redisFailure('out_of_memory');
      const now = Date.now();
      if (now - this.lastOomLog >= 10_000) {
        this.lastOomLog = now;
        this.options.logger.error(
          { err: (err as Error).message },
          'redis is out of memory (maxmemory reached): nothing more can be stored; sends answer store_unavailable',
        );
      }
    } else metrics.redisFailure('unavailable');
    return error;
  }

  private dispatch(channel: string, payload: string): void {
    const entry = this.listeners.get(channel);
    if (!entry) return;
    const event = parseLiveEvent(payload);
    if (!event) {
      this.options.logger.error({ channel }, 'unparsable live event');
      return;
    }
    const envelope = toEnvelope(entry.chatId, event);
    for (const listener of entry.set) listener(envelope);
  }

  /**
   * Waits (at most `READY_WAIT_MS`) for a connection that is being (re)established, so a
   * command at start-up or during a short reconnect succeeds; with Redis away for longer
   * the command then fails at once (no offline queue) and the caller gets store_unavailable.
   */
  private async whenReady(client: Client): Promise<void> {
    if (client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, READY_WAIT_MS);
      function done() {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      }
      client.once('ready', done);
    });
  }

  private async run<N extends ScriptName>(name: N, chatId: string, args: ScriptArgs<N>): Promise<unknown> {
    await this.whenReady(this.client);
    const fn = (this.client as unknown as Record<ScriptName, ScriptFn>)[name];
    const own = (SCRIPTS[name].args as readonly (keyof ScriptArgs<N>)[]).map((arg) => args[arg]);
    const started = performance.now();
    try {
      return await fn.call(
        this.client,
        ...keyList(chatKeys(this.prefix, chatId)),
        this.options.ttlSeconds,
        chatChannel(this.prefix, chatId),
        ...own,
      );
    } catch (err) {
      throw this.storeError(err);
    } finally {
      metrics.redisCommand(name, (performance.now() - started) / 1000);
    }
  }

  async ping(): Promise<void> {
    await this.whenReady(this.client);
    try {
      await this.client.ping();
    } catch (err) {
      throw this.storeError(err);
    }
  }

  async snapshot(chatId: string, maxMessages: number): Promise<ChatSnapshot> {
    const [total, ev, raw, turnFlat, text, lease] = (await this.run('chatSnapshot', chatId, { maxMessages })) as [number, number, string[], string[], string, number];
    const turnHash = fieldRecord(turnFlat);
    const turn: StoredTurn | null = turnHash.turnId
      ? {
          turnId: turnHash.turnId,
          replyTo: turnHash.replyTo ?? '',
          replaces: nonEmpty(turnHash.replaces),
          text,
          seq: Number(turnHash.seq ?? 0),
          owner: turnHash.owner ?? '',
          leaseAlive: lease === 1,
          stopRequested: turnHash.stop === '1',
        }
      : null;
    return { total, ev, messages: raw.map(parseMessage), turn };
  }

  async recentMessages(chatId: string, maxChars: number): Promise<Message[]> {
    const msgsKey = chatKeys(this.prefix, chatId).msgs;
    const out: Message[] = [];
    let chars = 0;
    await this.whenReady(this.client);
    try {
      for (let end = -1; chars < maxChars; end -= CONTEXT_PAGE) {
        const page = await this.client.lrange(msgsKey, end - CONTEXT_PAGE + 1, end);
        for (const raw of page.reverse()) {
          if (chars >= maxChars) break;
          const m = parseMessage(raw);
          out.push(m);
          chars += m.text.length;
        }
        if (page.length < CONTEXT_PAGE) break;
      }
    } catch (err) {
      throw this.storeError(err);
    }
    return out.reverse();
  }

  async isRecorded(chatId: string, clientMsgId: string): Promise<boolean> {
    await this.whenReady(this.client);
    try {
      return (await this.client.hexists(chatKeys(this.prefix, chatId).idem, clientMsgId)) === 1;
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async takeToken(key: string, rule: RateRule): Promise<RetryAfterMs> {
    await this.whenReady(this.client);
    const take = (this.client as unknown as { rateTake: ScriptFn }).rateTake;
    try {
      return Number(await take.call(this.client, `${this.prefix}rate:{${key}}`, rule.intervalMs, rule.burst));
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async beginTurn(
    chatId: string,
    begin: BeginSend | BeginRegenerate,
    turn: { turnId: string; owner: string },
  ): Promise<BeginResult> {
    const [kind, a, b] = (await this.run('chatBegin', chatId, {
      kind: begin.kind,
      clientMsgId: begin.clientMsgId,
      turnId: turn.turnId,
      owner: turn.owner,
      leaseMs: this.options.leaseMs,
      maxMessages: this.options.maxMessages,
      message: begin.kind === 'send' ? JSON.stringify(begin.message) : '',
      messageId: begin.kind === 'send' ? begin.message.id : '',
    })) as [string, string?, string?];
    switch (kind) {
      case 'started':
        if (a !== undefined) return { kind, messageId: a, replyTo: a, replaces: nonEmpty(b) };
        break;
      case 'duplicate':
        if (a !== undefined) return { kind, messageId: a };
        break;
      case 'busy':
      case 'orphan':
      case 'nothing':
        return { kind };
    }
    throw new AppError('internal', `unexpected begin result ${kind}`);
  }

  async appendDelta(chatId: string, turnId: string, text: string): Promise<{ signal: TurnSignal; seq: number }> {
    const [signal, seq] = (await this.run('chatDelta', chatId, { turnId, text })) as [TurnSignal, number];
    return { signal, seq };
  }

  async renewLease(chatId: string, turnId: string): Promise<TurnSignal> {
    return (await this.run('chatRenew', chatId, { turnId, leaseMs: this.options.leaseMs })) as TurnSignal;
  }

  async endTurn(chatId: string, end: EndTurn): Promise<boolean> {
    const ok = await this.run('chatEnd', chatId, {
      turnId: end.turnId,
      mode: end.mode,
      message: end.message ? JSON.stringify(end.message) : '',
      replaces: end.replaces ?? '',
      frame: JSON.stringify(end.frame),
      maxMessages: this.options.maxMessages,
    });
    return ok === 1;
  }

  async releaseTurn(chatId: string, turnId: string): Promise<void> {
    await this.run('chatRelease', chatId, { turnId });
  }

  async takeOver(
    chatId: string,
    oldTurnId: string,
    turn: { turnId: string; owner: string },
  ): Promise<StoredTurn | null> {
    const res = (await this.run('chatTakeover', chatId, {
      oldTurnId,
      turnId: turn.turnId,
      owner: turn.owner,
      leaseMs: this.options.leaseMs,
    })) as [string, string] | null;
    if (res === null) return null;
    const [replyTo, replaces] = res;
    return {
      turnId: turn.turnId,
      replyTo,
      replaces: replaces ? replaces : null,
      text: '',
      seq: 0,
      owner: turn.owner,
      leaseAlive: true,
      stopRequested: false,
    };
  }

  async requestStop(chatId: string): Promise<string | null> {
    return (await this.run('chatStop', chatId, {})) as string | null;
  }

  async subscribe(chatId: string, listener: (envelope: LiveEnvelope) => void): Promise<() => void> {
    const channel = chatChannel(this.prefix, chatId);
    let entry = this.listeners.get(channel);
    if (!entry) {
      entry = { chatId, set: new Set() };
      this.listeners.set(channel, entry);
    }
    entry.set.add(listener);
    let pending = this.subscribing.get(channel);
    if (!pending) {
      pending = withTimeout(this.sub.subscribe(channel), SUBSCRIBE_TIMEOUT_MS).then(
        () => undefined,
        (err: unknown) => {
          // Every listener of the channel fails with it; a SUBSCRIBE still queued for the
          // reconnect is undone right behind it.
          this.subscribing.delete(channel);
          this.listeners.delete(channel);
          this.sub.unsubscribe(channel).catch(() => undefined);
          throw this.storeError(err);
        },
      );
      this.subscribing.set(channel, pending);
    }
    await pending;
    return () => {
      const current = this.listeners.get(channel)?.set;
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(channel);
      this.subscribing.delete(channel);
      this.sub.unsubscribe(channel).catch(() => {
        // Gone with the connection: nothing to undo.
      });
    };
  }

  onResubscribed(listener: () => void): void {
    this.resubscribed.add(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.client.quit(), this.sub.quit()]);
    this.client.disconnect();
    this.sub.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A flat `[field, value, …]` reply (a hash read inside a script) as a record. */
function fieldRecord(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i];
    const value = flat[i + 1];
    if (field !== undefined && value !== undefined) out[field] = value;
  }
  return out;
}

/** A script's optional string reply: '' (or nothing) stands for null. */
function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function parseMessage(raw: string): Message {
  return JSON.parse(raw) as Message;
}

/** Lua errors are bugs (internal); anything else means Redis could not be reached in time. */
function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError' && err.message.startsWith('OOM');
}

function toStoreError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof Error && err.name === 'ReplyError' && !/BUSY|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|OOM/.test(err.message)) {
    return new AppError('internal', 'store script failed', { cause: err });
  }
  return new AppError('store_unavailable', undefined, { cause: err });
}
