import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '@ai-chat/protocol';
import type { ChatStore } from '../../src/store/chat-store.js';
import { EmbeddedChatStore } from '../../src/store/embedded-store.js';
import { gcra } from '../../src/store/rate-limit.js';
import { RedisChatStore } from '../../src/store/redis-store.js';
import { sharedRedis } from '@ai-chat/testkit/redis-server';
import { newChatId } from '@ai-chat/testkit/replica-in-process';
import { sleep } from '@ai-chat/testkit/ws-client';

const settings = { ttlSeconds: 3600, maxMessages: 50, leaseMs: 1000 };
const key = () => `k${randomBytes(6).toString('hex')}`;
const user = (text: string): Message => ({ id: `m${randomBytes(6).toString('hex')}`, role: 'user', text, createdAt: Date.now(), status: 'complete' });

describe('gcra', () => {
  it('lets a burst through, then one token per interval, and says how long to wait', () => {
    const rule = { intervalMs: 1000, burst: 3 };
    let tat = 0;
    for (let i = 0; i < 3; i++) {
      const step = gcra(tat, 10_000, rule);
      expect(step.retryAfterMs).toBe(0);
      tat = step.tat;
    }
    expect(gcra(tat, 10_000, rule)).toEqual({ retryAfterMs: 1000, tat });
    expect(gcra(tat, 10_400, rule).retryAfterMs).toBe(600);
    expect(gcra(tat, 11_000, rule).retryAfterMs).toBe(0);
  });
});

/**
 * The rate-limit part of the store seam, the same for each implementation. `make` gives
 * two stores over the same data (two replicas on one Redis; the embedded store is one
 * process, so the same instance twice).
 */
function contract(name: string, make: () => Promise<[ChatStore, ChatStore]>) {
  describe(name, () => {
    let stores: [ChatStore, ChatStore] | null = null;
    const both = async () => (stores ??= await make());
    afterAll(async () => {
      if (stores) await Promise.all([...new Set(stores)].map((s) => s.close()));
    });

    it('takes `burst` tokens at once, then refuses with the wait until the next one', async () => {
      const [a] = await both();
      const rule = { intervalMs: 60_000, burst: 3 };
      const k = key();
      expect([await a.takeToken(k, rule), await a.takeToken(k, rule), await a.takeToken(k, rule)]).toEqual([0, 0, 0]);
      const wait = await a.takeToken(k, rule);
      expect(wait).toBeGreaterThan(59_000);
      expect(wait).toBeLessThanOrEqual(60_000);
      expect(await a.takeToken(key(), rule)).toBe(0);
    });

    it('a refused take takes nothing; a token comes back after its interval', async () => {
      const [a] = await both();
      const rule = { intervalMs: 300, burst: 1 };
      const k = key();
      expect(await a.takeToken(k, rule)).toBe(0);
      for (let i = 0; i < 5; i++) expect(await a.takeToken(k, rule)).toBeGreaterThan(0);
      await sleep(350);
      expect(await a.takeToken(k, rule)).toBe(0);
    });

    it('is one budget for every replica, also under concurrent takes', async () => {
      const [a, b] = await both();
      const rule = { intervalMs: 60_000, burst: 5 };
      const k = key();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).takeToken(k, rule)));
      expect(results.filter((r) => r === 0)).toHaveLength(5);
    });

    it('knows which clientMsgIds a chat has recorded', async () => {
      const [a, b] = await both();
      const chatId = newChatId();
      expect(await a.isRecorded(chatId, 'cmid-0001')).toBe(false);
      await a.beginTurn(chatId, { kind: 'send', clientMsgId: 'cmid-0001', message: user('q') }, { turnId: 't1', owner: 'a' });
      expect(await b.isRecorded(chatId, 'cmid-0001')).toBe(true);
      expect(await b.isRecorded(chatId, 'cmid-0002')).toBe(false);
    });
  });
}

contract('EmbeddedChatStore', async () => {
  const s = EmbeddedChatStore.open(':memory:', settings);
  return [s, s];
});

const redis = await sharedRedis();
describe.skipIf(!redis)('RedisChatStore (real Redis)', () => {
  afterAll(async () => {
    await redis?.stop();
  });
  const prefix = `r${randomBytes(4).toString('hex')}:`;
  const open = () => new RedisChatStore({ ...settings, url: redis!.url, keyPrefix: prefix, logger: pino({ level: 'silent' }) });
  contract('contract', async () => [open(), open()]);

  it('a limit key expires once its bucket is full again', async () => {
    const { Redis } = await import('ioredis');
    const store = open();
    const k = key();
    await store.takeToken(k, { intervalMs: 5000, burst: 2 });
    const r = new Redis(redis!.url);
    const pttl = await r.pttl(`${prefix}rate:{${k}}`);
    expect(pttl).toBeGreaterThan(4000);
    expect(pttl).toBeLessThanOrEqual(5000);
    r.disconnect();
    await store.close();
  });
});
