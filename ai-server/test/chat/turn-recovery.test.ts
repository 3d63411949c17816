import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChatService } from '../../src/chat/chat-service.js';
import type { ClientSink } from '../../src/chat/client-sink.js';
import { orphanOutcome, type RepairCause } from '../../src/chat/turn-recovery.js';
import { HISTORY_FRAME_BUDGET_BYTES } from '@ai-chat/protocol';
import { DemoProvider } from '../../src/llm/demo-provider.js';
import type { AckFrame, ErrorFrame, Message, ServerFrame } from '@ai-chat/protocol';
import type { ChatStore, StoredTurn } from '../../src/store/chat-store.js';
import { EmbeddedChatStore } from '../../src/store/embedded-store.js';
import { RedisChatStore } from '../../src/store/redis-store.js';
import { sharedRedis } from '@ai-chat/testkit/redis-server';
import { newChatId, newMsgId } from '@ai-chat/testkit/replica-in-process';

const SERVER_ID = 'replica-here';
const GONE = 'replica-gone';

/** A server frame of one type. */
type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** Records the frames a client (or a chat's channel) gets; a test waits for one by predicate. */
class FrameLog implements ClientSink {
  readonly id = `sink-${randomBytes(4).toString('hex')}`;
  readonly frames: ServerFrame[] = [];
  private waiters: { match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];

  send(frame: object): void {
    // Only v1 clients join here: every frame is a protocol frame.
    const f = frame as ServerFrame;
    this.frames.push(f);
    const matched = this.waiters.filter((w) => w.match(f));
    this.waiters = this.waiters.filter((w) => !matched.includes(w));
    for (const w of matched) w.resolve(f);
  }

  waitFor<T extends ServerFrame['type']>(
    type: T,
    predicate: (f: FrameOf<T>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<FrameOf<T>> {
    const match = (f: ServerFrame): f is FrameOf<T> => f.type === type && predicate(f as FrameOf<T>);
    const found = this.frames.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const seen = this.frames.map((f) => (f.type === 'error' ? `error:${f.code}` : f.type)).join(', ');
        reject(new Error(`no "${type}" frame within ${timeoutMs} ms; got: [${seen}]`));
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f as FrameOf<T>);
        },
      });
    });
  }

  types(): string[] {
    return this.frames.map((f) => (f.type === 'error' ? `error:${f.code}` : f.type));
  }
}

const userMessage = (text: string): Message => ({
  id: `m${randomBytes(6).toString('hex')}`,
  role: 'user',
  text,
  createdAt: Date.now(),
  status: 'complete',
});

describe('orphanOutcome: the rule', () => {
  const turn = (stopRequested: boolean): StoredTurn => ({
    turnId: 't1',
    replyTo: 'm1',
    replaces: null,
    text: '',
    seq: 0,
    owner: GONE,
    leaseAlive: false,
    stopRequested,
  });
  const causes: RepairCause[] = ['join', 'stop', 'moved-on', 'handover', 'watchdog'];

  it.each(causes)('a stop requested ends the orphan as stopped, whoever finds it (%s)', (cause) => {
    expect(orphanOutcome(turn(true), cause)).toBe('stopped');
  });

  it('a user who moved on (a new send or regenerate) interrupts it', () => {
    expect(orphanOutcome(turn(false), 'moved-on')).toBe('interrupted');
  });

  it.each(causes.filter((c) => c !== 'moved-on'))('otherwise it is taken over (%s)', (cause) => {
    expect(orphanOutcome(turn(false), cause)).toBe('taken-over');
  });
});

/** Turn recovery through a ChatService on a real store: every branch of the rule, by the path that takes it. */
function recoverySuite(name: string, makeStore: (leaseMs: number) => ChatStore) {
  describe(name, () => {
    const worlds: { service: ChatService; store: ChatStore }[] = [];
    afterEach(async () => {
      for (const { service, store } of worlds.splice(0)) {
        await service.drain(5_000);
        await store.close();
      }
    });

    /** A store and this replica's chat service on it, with the given turn lease. */
    function world(leaseMs = 10_000) {
      const store = makeStore(leaseMs);
      const service = new ChatService(
        store,
        new DemoProvider({ pieceDelayMs: 20 }),
        {
          serverId: SERVER_ID,
          historyBudgetBytes: HISTORY_FRAME_BUDGET_BYTES,
          contextMaxChars: 200_000,
          maxReplyChars: 100_000,
          maxMessageChars: 8000,
          llmIdleTimeoutMs: 30_000,
          leaseMs,
        },
        pino({ level: 'silent' }),
      );
      worlds.push({ service, store });
      return { store, service };
    }

    /** A turn another replica was producing when it went away: its user message stored, some text streamed. */
    async function turnOfAnotherReplica(store: ChatStore, chatId: string, partial = 'partial answer') {
      const question = userMessage('What is a lease?');
      const turnId = `t-gone-${randomBytes(4).toString('hex')}`;
      const begun = await store.beginTurn(chatId, { kind: 'send', clientMsgId: newMsgId(), message: question }, { turnId, owner: GONE });
      expect(begun.kind).toBe('started');
      await store.appendDelta(chatId, turnId, partial);
      return { question, turnId, partial };
    }

    /** The chat's channel, as any watcher sees it. */
    async function channel(store: ChatStore, chatId: string): Promise<FrameLog> {
      const log = new FrameLog();
      await store.subscribe(chatId, (e) => {
        if ('frame' in e) log.send(e.frame);
      });
      return log;
    }

    it('join: an orphan is taken over, answered again under a new turnId', async () => {
      const { store, service } = world();
      const chatId = newChatId();
      const { question, turnId: oldTurnId } = await turnOfAnotherReplica(store, chatId);
      await store.releaseTurn(chatId, oldTurnId); // nobody watches: only a join finds it

      const client = new FrameLog();
      await service.join(client, chatId);
      const history = await client.waitFor('history');
      expect(history.turn).toMatchObject({ replyTo: question.id, replaces: null, text: '' });
      const newTurnId = history.turn!.turnId;
      expect(newTurnId).not.toBe(oldTurnId);

      const done = await client.waitFor('done', (f) => f.turnId === newTurnId);
      expect(done.finishReason).toBe('stop');
      expect(client.frames.some((f) => 'turnId' in f && f.turnId === oldTurnId)).toBe(false);
      const snap = await store.snapshot(chatId, 100);
      expect(snap.turn).toBeNull();
      expect(snap.messages).toEqual([
        question,
        expect.objectContaining({ id: done.messageId, role: 'model', text: done.reply, status: 'complete' }),
      ]);
    });

    it('a new send: an orphan in the way is ended as interrupted with its partial text, then the send goes on', async () => {
      const { store, service } = world();
      const chatId = newChatId();
      const { question, turnId: oldTurnId, partial } = await turnOfAnotherReplica(store, chatId);
      await store.releaseTurn(chatId, oldTurnId);

      const client = new FrameLog();
      const clientMsgId = newMsgId();
      await service.send(client, chatId, clientMsgId, 'Never mind: what is a fence?');
      const start = await client.waitFor('start');
      expect(client.types().slice(0, 3)).toEqual(['ack', 'error:interrupted', 'start']);
      const ack = client.frames[0] as AckFrame;
      expect(ack).toMatchObject({ chatId, clientMsgId, duplicate: false });
      const interrupted = client.frames[1] as ErrorFrame;
      expect(interrupted).toMatchObject({ chatId, turnId: oldTurnId, retryable: true });
      expect(start).toMatchObject({ replyTo: ack.messageId, replaces: null });

      const done = await client.waitFor('done', (f) => f.turnId === start.turnId);
      const snap = await store.snapshot(chatId, 100);
      expect(snap.turn).toBeNull();
      expect(snap.messages.map((m) => [m.role, m.status])).toEqual([
        ['user', 'complete'],
        ['model', 'interrupted'],
        ['user', 'complete'],
        ['model', 'complete'],
      ]);
      expect(snap.messages[0]).toEqual(question);
      expect(snap.messages[1]).toMatchObject({ id: interrupted.messageId, text: partial });
      expect(snap.messages[2]).toMatchObject({ id: ack.messageId, text: 'Never mind: what is a fence?' });
      expect(snap.messages[3]).toMatchObject({ id: done.messageId, text: done.reply });
    });

    it('stop: an orphan is ended as stopped, its partial text kept', async () => {
      const { store, service } = world();
      const chatId = newChatId();
      const { question, turnId: oldTurnId, partial } = await turnOfAnotherReplica(store, chatId);
      await store.releaseTurn(chatId, oldTurnId);
      const live = await channel(store, chatId);

      await service.stop(chatId);
      const done = await live.waitFor('done');
      expect(done).toMatchObject({ chatId, turnId: oldTurnId, reply: partial, finishReason: 'stopped' });
      expect(live.types()).toEqual(['done']);
      const snap = await store.snapshot(chatId, 100);
      expect(snap.turn).toBeNull();
      expect(snap.messages).toEqual([
        question,
        expect.objectContaining({ id: done.messageId, role: 'model', text: partial, status: 'stopped' }),
      ]);
    });

    it('an orphan whose stop was requested before its producer went away is ended as stopped by a join too', async () => {
      const { store, service } = world();
      const chatId = newChatId();
      const { question, turnId: oldTurnId, partial } = await turnOfAnotherReplica(store, chatId);
      expect(await store.requestStop(chatId)).toBe(oldTurnId); // the producer never got to act on it
      await store.releaseTurn(chatId, oldTurnId);

      const client = new FrameLog();
      await service.join(client, chatId);
      const history = await client.waitFor('history');
      expect(history.turn).toBeNull();
      expect(history.messages).toEqual([question, expect.objectContaining({ role: 'model', text: partial, status: 'stopped' })]);
      expect(client.types()).toEqual(['history']);
    });

    it('handover: a turn a client here watches is taken over as soon as its producer hands it over', async () => {
      // A lease far longer than the test: neither its expiry nor the watchdog can explain the takeover.
      const { store, service } = world(120_000);
      const chatId = newChatId();
      const { question, turnId: oldTurnId, partial } = await turnOfAnotherReplica(store, chatId);

      const client = new FrameLog();
      await service.join(client, chatId);
      const history = await client.waitFor('history');
      expect(history.turn).toMatchObject({ turnId: oldTurnId, text: partial }); // alive: not repaired

      await store.releaseTurn(chatId, oldTurnId); // the producer drains and hands the turn over
      const start = await client.waitFor('start');
      expect(start).toMatchObject({ chatId, replyTo: question.id, replaces: null });
      expect(start.turnId).not.toBe(oldTurnId);
      const done = await client.waitFor('done', (f) => f.turnId === start.turnId);
      expect(client.types()[0]).toBe('history');
      const snap = await store.snapshot(chatId, 100);
      expect(snap.messages).toEqual([question, expect.objectContaining({ id: done.messageId, status: 'complete' })]);
    });

    it('watchdog: a watched turn whose lease expired (its producer died) is taken over', async () => {
      const { store, service } = world(1000);
      const chatId = newChatId();
      const { question, turnId: oldTurnId, partial } = await turnOfAnotherReplica(store, chatId);

      const client = new FrameLog();
      await service.join(client, chatId);
      const history = await client.waitFor('history');
      expect(history.turn).toMatchObject({ turnId: oldTurnId, text: partial }); // alive when joined

      // The producer is gone without a word: no renewal, no hand-over; only the lease expires.
      const start = await client.waitFor('start');
      expect(start).toMatchObject({ chatId, replyTo: question.id, replaces: null });
      expect(start.turnId).not.toBe(oldTurnId);
      const done = await client.waitFor('done', (f) => f.turnId === start.turnId);
      const snap = await store.snapshot(chatId, 100);
      expect(snap.turn).toBeNull();
      expect(snap.messages).toEqual([question, expect.objectContaining({ id: done.messageId, status: 'complete' })]);
    });

    it('draining: nothing is repaired, the orphan stays for another replica', async () => {
      const { store, service } = world();
      const chatId = newChatId();
      const { question, turnId: oldTurnId, partial } = await turnOfAnotherReplica(store, chatId);
      await store.releaseTurn(chatId, oldTurnId);
      const live = await channel(store, chatId);

      await service.drain(0);
      const client = new FrameLog();
      await service.join(client, chatId);
      await service.stop(chatId);

      const history = await client.waitFor('history');
      expect(history.turn).toMatchObject({ turnId: oldTurnId, text: partial });
      expect(client.types()).toEqual(['history']);
      expect(live.frames).toEqual([]);
      const snap = await store.snapshot(chatId, 100);
      expect(snap.messages).toEqual([question]);
      expect(snap.turn).toMatchObject({ turnId: oldTurnId, owner: GONE, leaseAlive: false, text: partial });
    });
  });
}

recoverySuite('EmbeddedChatStore (in memory)', (leaseMs) => EmbeddedChatStore.open(':memory:', { ttlSeconds: 3600, maxMessages: 100, leaseMs }));

const redis = await sharedRedis();
describe.skipIf(!redis)('RedisChatStore (real Redis)', () => {
  afterAll(async () => {
    await redis?.stop();
  });
  recoverySuite(
    'recovery',
    (leaseMs) =>
      new RedisChatStore({
        ttlSeconds: 3600,
        maxMessages: 100,
        leaseMs,
        url: redis!.url,
        keyPrefix: `r${randomBytes(4).toString('hex')}:`,
        logger: pino({ level: 'silent' }),
      }),
  );
});
