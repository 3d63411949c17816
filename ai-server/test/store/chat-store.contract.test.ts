import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveFrame, Message } from '@ai-chat/protocol';
import type { ChatStore, LiveEnvelope } from '../../src/store/chat-store.js';
import { EmbeddedChatStore } from '../../src/store/embedded-store.js';
import { RedisChatStore } from '../../src/store/redis-store.js';
import { sharedRedis } from '@ai-chat/testkit/redis-server';
import { newChatId } from '@ai-chat/testkit/replica-in-process';
import { sleep } from '@ai-chat/testkit/ws-client';

const LEASE_MS = 400;
const settings = { ttlSeconds: 3600, maxMessages: 5, leaseMs: LEASE_MS };
type Settings = typeof settings;

const user = (text: string): Message => ({
  id: `m${randomBytes(6).toString('hex')}`,
  role: 'user',
  text,
  createdAt: Date.now(),
  status: 'complete',
});
const model = (text: string, status: Message['status'] = 'complete'): Message => ({ ...user(text), role: 'model', status });
const done = (chatId: string, turnId: string, messageId: string): LiveFrame => ({
  type: 'done',
  chatId,
  turnId,
  messageId,
  reply: '',
  finishReason: 'stop',
});

/** The one contract every ChatStore honours, run against each implementation. */
function contract(name: string, make: (s: Settings) => Promise<ChatStore>) {
  describe(name, () => {
    let store: ChatStore | null = null;
    beforeAll(async () => {
      store = await make(settings);
    });
    afterAll(async () => {
      await store?.close();
    });
    const s = () => store!;

    it('stores a send with its idempotency record and opens the turn atomically', async () => {
      const chatId = newChatId();
      const m = user('hello');
      const r = await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: m }, { turnId: 't1', owner: 'a' });
      expect(r).toEqual({ kind: 'started', messageId: m.id, replyTo: m.id, replaces: null });
      const snap = await s().snapshot(chatId, 100);
      expect(snap.messages).toEqual([m]);
      expect(snap.turn).toMatchObject({ turnId: 't1', replyTo: m.id, replaces: null, text: '', seq: 0, leaseAlive: true });
    });

    it('answers a resent clientMsgId as a duplicate, even while its turn streams', async () => {
      const chatId = newChatId();
      const m = user('hello');
      await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: m }, { turnId: 't1', owner: 'a' });
      const again = await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: user('hello') }, { turnId: 't2', owner: 'a' });
      expect(again).toEqual({ kind: 'duplicate', messageId: m.id });
      expect((await s().snapshot(chatId, 100)).messages).toHaveLength(1);
    });

    it('refuses a second turn as busy and stores nothing for it', async () => {
      const chatId = newChatId();
      await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: user('a') }, { turnId: 't1', owner: 'a' });
      const busy = await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0002', message: user('b') }, { turnId: 't2', owner: 'a' });
      expect(busy).toEqual({ kind: 'busy' });
      expect((await s().snapshot(chatId, 100)).messages).toHaveLength(1);
      // The refused id was not recorded: after the turn ends, the same id is a new message.
      await s().endTurn(chatId, { turnId: 't1', mode: 'owner', message: model('x'), replaces: null, frame: done(chatId, 't1', 'x') });
      const later = await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0002', message: user('b') }, { turnId: 't3', owner: 'a' });
      expect(later.kind).toBe('started');
    });

    it('publishes deltas with rising seq and ev, and ends the turn with its message', async () => {
      const chatId = newChatId();
      const got: LiveEnvelope[] = [];
      const unsubscribe = await s().subscribe(chatId, (e) => got.push(e));
      const m = user('q');
      await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: m }, { turnId: 't1', owner: 'a' });
      expect(await s().appendDelta(chatId, 't1', 'Hel')).toEqual({ signal: 'ok', seq: 1 });
      expect(await s().appendDelta(chatId, 't1', 'lo')).toEqual({ signal: 'ok', seq: 2 });
      const mid = await s().snapshot(chatId, 100);
      expect(mid.turn).toMatchObject({ text: 'Hello', seq: 2 });
      const reply = model('Hello');
      expect(await s().endTurn(chatId, { turnId: 't1', mode: 'owner', message: reply, replaces: null, frame: done(chatId, 't1', reply.id) })).toBe(true);
      await sleep(50);
      unsubscribe();
      const frames = got.filter((e): e is Extract<LiveEnvelope, { frame: LiveFrame }> => 'frame' in e);
      // beginTurn published the turn's start, in the same atomic step.
      expect(frames.map((e) => e.frame.type)).toEqual(['start', 'delta', 'delta', 'done']);
      expect(frames[0]!.frame).toEqual({ type: 'start', chatId, turnId: 't1', replyTo: m.id, replaces: null });
      expect(frames.map((e) => ('seq' in e.frame ? e.frame.seq : null))).toEqual([null, 1, 2, null]);
      expect(frames.map((e) => e.ev)).toEqual([...frames.map((e) => e.ev)].sort((a, b) => a - b));
      expect(frames[2]!.ev).toBeLessThanOrEqual(mid.ev);
      const end = await s().snapshot(chatId, 100);
      expect(end.turn).toBeNull();
      expect(end.messages.map((x) => x.id)).toEqual([m.id, reply.id]);
      expect(end.ev).toBe(frames[3]!.ev);
    });

    it('stop sets a flag the producer sees, and a control on the channel', async () => {
      const chatId = newChatId();
      expect(await s().requestStop(chatId)).toBeNull();
      const got: LiveEnvelope[] = [];
      const unsubscribe = await s().subscribe(chatId, (e) => got.push(e));
      await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: user('q') }, { turnId: 't1', owner: 'a' });
      expect(await s().requestStop(chatId)).toBe('t1');
      expect(await s().renewLease(chatId, 't1')).toBe('stop');
      expect((await s().appendDelta(chatId, 't1', 'x')).signal).toBe('stop');
      await sleep(50);
      unsubscribe();
      expect(got.some((e) => 'control' in e && e.control === 'stop' && e.turnId === 't1')).toBe(true);
    });

    it('fences a producer whose lease expired, and lets exactly one replica take the orphan over', async () => {
      const chatId = newChatId();
      const m = user('q');
      await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: m }, { turnId: 't1', owner: 'a' });
      await s().appendDelta(chatId, 't1', 'partial');
      await sleep(LEASE_MS + 150);
      const snap = await s().snapshot(chatId, 100);
      expect(snap.turn).toMatchObject({ turnId: 't1', text: 'partial', leaseAlive: false });
      expect(await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0002', message: user('b') }, { turnId: 't9', owner: 'b' })).toEqual({ kind: 'orphan' });
      const [first, second] = await Promise.all([
        s().takeOver(chatId, 't1', { turnId: 't2', owner: 'b' }),
        s().takeOver(chatId, 't1', { turnId: 't3', owner: 'c' }),
      ]);
      expect([first, second].filter((x) => x !== null)).toHaveLength(1);
      const winner = (first ?? second)!;
      expect(winner).toMatchObject({ replyTo: m.id, replaces: null, text: '', seq: 0, leaseAlive: true });
      expect(await s().appendDelta(chatId, 't1', 'late')).toEqual({ signal: 'fenced', seq: 0 });
      expect(await s().renewLease(chatId, 't1')).toBe('fenced');
      expect(await s().endTurn(chatId, { turnId: 't1', mode: 'owner', message: model('late'), replaces: null, frame: done(chatId, 't1', 'x') })).toBe(false);
      expect((await s().snapshot(chatId, 100)).messages).toHaveLength(1);
    });

    it('a released lease makes the turn an orphan at once, announced as a handover; an orphan can be ended as interrupted', async () => {
      const chatId = newChatId();
      const got: LiveEnvelope[] = [];
      const unsubscribe = await s().subscribe(chatId, (e) => got.push(e));
      await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: user('q') }, { turnId: 't1', owner: 'a' });
      await s().releaseTurn(chatId, 't1');
      await sleep(50);
      unsubscribe();
      expect(got.filter((e) => 'control' in e)).toEqual([{ ev: 0, control: 'handover', turnId: 't1' }]);
      expect((await s().snapshot(chatId, 1)).turn?.leaseAlive).toBe(false);
      const interrupted = model('', 'interrupted');
      const frame: LiveFrame = { type: 'error', code: 'interrupted', message: 'x', retryable: true, chatId, turnId: 't1' };
      expect(await s().endTurn(chatId, { turnId: 't1', mode: 'orphan', message: interrupted, replaces: null, frame })).toBe(true);
      const snap = await s().snapshot(chatId, 100);
      expect(snap.turn).toBeNull();
      expect(snap.messages.at(-1)).toMatchObject({ status: 'interrupted' });
    });

    it('regenerate answers the last user message and replaces the last model message on done', async () => {
      const chatId = newChatId();
      expect(await s().beginTurn(chatId, { kind: 'regenerate', clientMsgId: 'cmid-0000' }, { turnId: 't0', owner: 'a' })).toEqual({ kind: 'nothing' });
      const q = user('q');
      await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: q }, { turnId: 't1', owner: 'a' });
      const first = model('first');
      await s().endTurn(chatId, { turnId: 't1', mode: 'owner', message: first, replaces: null, frame: done(chatId, 't1', first.id) });
      const r = await s().beginTurn(chatId, { kind: 'regenerate', clientMsgId: 'cmid-0002' }, { turnId: 't2', owner: 'a' });
      expect(r).toEqual({ kind: 'started', messageId: q.id, replyTo: q.id, replaces: first.id });
      const second = model('second');
      await s().endTurn(chatId, { turnId: 't2', mode: 'owner', message: second, replaces: first.id, frame: done(chatId, 't2', second.id) });
      expect((await s().snapshot(chatId, 100)).messages.map((m) => m.text)).toEqual(['q', 'second']);
    });

    it('keeps at most maxMessages, dropping the oldest, and reads the newest within a char budget', async () => {
      const chatId = newChatId();
      for (let i = 0; i < 4; i++) {
        const t = `t${i}`;
        await s().beginTurn(chatId, { kind: 'send', clientMsgId: `cmid-000${i}`, message: user(`q${i}`) }, { turnId: t, owner: 'a' });
        const a = model(`a${i}`);
        await s().endTurn(chatId, { turnId: t, mode: 'owner', message: a, replaces: null, frame: done(chatId, t, a.id) });
      }
      const snap = await s().snapshot(chatId, 100);
      expect(snap.total).toBe(5);
      expect(snap.messages.map((m) => m.text)).toEqual(['a1', 'q2', 'a2', 'q3', 'a3']);
      expect((await s().snapshot(chatId, 2)).messages.map((m) => m.text)).toEqual(['q3', 'a3']);
      // a3 + q3 = 4 characters, a2 reaches the budget of 5: reading stops there.
      expect((await s().recentMessages(chatId, 5)).map((m) => m.text)).toEqual(['a2', 'q3', 'a3']);
    });

    it('a takeover publishes its start with the stored replyTo and replaces under the new turnId', async () => {
      const chatId = newChatId();
      const q = user('q');
      await s().beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: q }, { turnId: 't1', owner: 'a' });
      const first = model('first');
      await s().endTurn(chatId, { turnId: 't1', mode: 'owner', message: first, replaces: null, frame: done(chatId, 't1', first.id) });
      await s().beginTurn(chatId, { kind: 'regenerate', clientMsgId: 'cmid-0002' }, { turnId: 't2', owner: 'a' });
      await s().appendDelta(chatId, 't2', 'par');
      await s().releaseTurn(chatId, 't2');
      const got: LiveEnvelope[] = [];
      const unsubscribe = await s().subscribe(chatId, (e) => got.push(e));
      const taken = await s().takeOver(chatId, 't2', { turnId: 't3', owner: 'b' });
      expect(taken).toEqual({ turnId: 't3', replyTo: q.id, replaces: first.id, text: '', seq: 0, owner: 'b', leaseAlive: true, stopRequested: false });
      expect(await s().appendDelta(chatId, 't3', 'again')).toEqual({ signal: 'ok', seq: 1 });
      await sleep(50);
      unsubscribe();
      expect(got.map((e) => ('frame' in e ? e.frame : e))).toEqual([
        { type: 'start', chatId, turnId: 't3', replyTo: q.id, replaces: first.id },
        { type: 'delta', chatId, turnId: 't3', seq: 1, text: 'again' },
      ]);
      expect((await s().snapshot(chatId, 10)).turn).toMatchObject({ turnId: 't3', text: 'again', seq: 1, owner: 'b', leaseAlive: true });
    });

    it('answers ping', async () => {
      await expect(s().ping()).resolves.toBeUndefined();
    });

    it('a chat untouched for its TTL is gone', async () => {
      const short = await make({ ...settings, ttlSeconds: 1 });
      try {
        const chatId = newChatId();
        await short.beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: user('q') }, { turnId: 't1', owner: 'a' });
        await short.endTurn(chatId, { turnId: 't1', mode: 'owner', message: model('a'), replaces: null, frame: done(chatId, 't1', 'x') });
        expect((await short.snapshot(chatId, 10)).total).toBe(2);
        await sleep(1500);
        expect(await short.snapshot(chatId, 10)).toMatchObject({ messages: [], total: 0, turn: null });
        // The idempotency record went with it: the same clientMsgId is a new message.
        const again = await short.beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: user('q') }, { turnId: 't2', owner: 'a' });
        expect(again.kind).toBe('started');
      } finally {
        await short.close();
      }
    });

    it('an unknown chat is empty', async () => {
      const snap = await s().snapshot(newChatId(), 10);
      expect(snap).toMatchObject({ messages: [], total: 0, turn: null, ev: 0 });
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
  dirs.push(dir);
  return join(dir, 'chats.sqlite');
};

contract('EmbeddedChatStore (file)', async (s) => EmbeddedChatStore.open(tempFile(), s));
contract('EmbeddedChatStore (in memory)', async (s) => EmbeddedChatStore.open(':memory:', s));

describe('EmbeddedChatStore on disk', () => {
  it('keeps chats across close and reopen; a turn left unfinished comes back as an orphan', async () => {
    const file = tempFile();
    const chatId = newChatId();
    const q = user('q');
    const a = model('answer');
    let store = EmbeddedChatStore.open(file, settings);
    await store.beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: q }, { turnId: 't1', owner: 'a' });
    await store.endTurn(chatId, { turnId: 't1', mode: 'owner', message: a, replaces: null, frame: done(chatId, 't1', a.id) });
    const q2 = user('q2');
    await store.beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0002', message: q2 }, { turnId: 't2', owner: 'a' });
    await store.appendDelta(chatId, 't2', 'half');
    await store.close();

    store = EmbeddedChatStore.open(file, settings);
    const snap = await store.snapshot(chatId, 10);
    expect(snap.messages).toEqual([q, a, q2]);
    expect(snap.turn).toMatchObject({ turnId: 't2', replyTo: q2.id, text: 'half', seq: 1, leaseAlive: false });
    expect(await store.beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0002', message: q2 }, { turnId: 't9', owner: 'b' })).toEqual({ kind: 'duplicate', messageId: q2.id });
    expect(await store.takeOver(chatId, 't2', { turnId: 't3', owner: 'b' })).toMatchObject({ replyTo: q2.id, text: '' });
    await store.close();
  });

  const built = fileURLToPath(new URL('../../dist/store/embedded-store.js', import.meta.url));
  it.skipIf(!existsSync(built))('a process killed (SIGKILL) mid-turn loses nothing it wrote: the message, the reply so far', async () => {
    const file = tempFile();
    const chatId = newChatId();
    const q = user('q');
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { EmbeddedChatStore } = await import(${JSON.stringify(built)});
        const store = EmbeddedChatStore.open(${JSON.stringify(file)}, ${JSON.stringify(settings)});
        await store.beginTurn(${JSON.stringify(chatId)}, { kind: 'send', clientMsgId: 'cmid-0001', message: ${JSON.stringify(q)} }, { turnId: 't1', owner: 'a' });
        for (const piece of ['one ', 'two ', 'three']) await store.appendDelta(${JSON.stringify(chatId)}, 't1', piece);
        process.kill(process.pid, 'SIGKILL');`,
      ],
      { encoding: 'utf8' },
    );
    expect(child.signal).toBe('SIGKILL');
    const store = EmbeddedChatStore.open(file, settings);
    const snap = await store.snapshot(chatId, 10);
    expect(snap.messages).toEqual([q]);
    expect(snap.turn).toMatchObject({ turnId: 't1', text: 'one two three', seq: 3, leaseAlive: false });
    await store.close();
  });

  it('refuses a second opening of the same file while the first is open', async () => {
    const file = tempFile();
    const first = EmbeddedChatStore.open(file, settings);
    expect(() => EmbeddedChatStore.open(file, settings)).toThrow(/in use by another ai-server process/);
    await first.close();
    const again = EmbeddedChatStore.open(file, settings);
    await again.close();
  });
});

const redis = await sharedRedis();
describe.skipIf(!redis)('RedisChatStore (real Redis)', () => {
  afterAll(async () => {
    await redis?.stop();
  });
  contract('contract', async (s) =>
    new RedisChatStore({ ...s, url: redis!.url, keyPrefix: `c${randomBytes(4).toString('hex')}:`, logger: pino({ level: 'silent' }) }),
  );

  it('every key of a chat carries the {chatId} hash tag and the sliding TTL', async () => {
    const { Redis } = await import('ioredis');
    const prefix = `k${randomBytes(4).toString('hex')}:`;
    const store = new RedisChatStore({ ...settings, url: redis!.url, keyPrefix: prefix, logger: pino({ level: 'silent' }) });
    const chatId = newChatId();
    await store.beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: user('q') }, { turnId: 't1', owner: 'a' });
    await store.appendDelta(chatId, 't1', 'x');
    const r = new Redis(redis!.url);
    const keys = await r.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const k of keys) {
      expect(k).toContain(`{${chatId}}`);
      const ttl = await r.ttl(k);
      if (k.endsWith(':lease')) expect(ttl).toBeLessThanOrEqual(1);
      else expect(ttl).toBeGreaterThan(3500);
    }
    r.disconnect();
    await store.close();
  });
});
