import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGeminiStub, type GeminiStub } from '@ai-chat/testkit/gemini-stub';
import { startRedisServer, type RedisServerHandle } from '@ai-chat/testkit/redis-server';
import { startReplica } from '@ai-chat/testkit/replica';
import { skip } from '@ai-chat/testkit/skips';
import { newChatId, newMsgId, startTestServer } from '@ai-chat/testkit/replica-in-process';
import { sleep, TestClient } from '@ai-chat/testkit/ws-client';
import type { HistoryFrame, StartFrame } from '@ai-chat/protocol';

/** Faults with their own redis-server processes (never a shared Redis: these kill it). */
describe.skipIf(skip.redis)('faults', () => {
  let redis: RedisServerHandle;
  let stub: GeminiStub;
  beforeAll(async () => {
    redis = await startRedisServer();
    stub = await startGeminiStub();
  });
  afterAll(async () => {
    // Unset when beforeAll failed part-way.
    await (stub as GeminiStub | undefined)?.close();
    await (redis as RedisServerHandle | undefined)?.stop();
  });

  it('Redis killed: a send fails within 2 s with store_unavailable; back by itself when Redis returns', async () => {
    const server = await startTestServer({ redisUrl: redis.url, geminiBaseUrl: stub.baseUrl });
    try {
      const c = await server.client();
      const chatId = newChatId();
      c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'before' });
      await c.waitFor('done');

      await redis.kill();
      const id = newMsgId();
      const t0 = Date.now();
      c.send({ type: 'send', chatId, clientMsgId: id, text: 'while down' });
      const err = await c.waitFor('error', (f) => f.clientMsgId === id, 5000);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(err).toMatchObject({ code: 'store_unavailable', retryable: true, chatId });
      expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(503);
      const join = c.frames.length;
      c.send({ type: 'join', chatId });
      expect(await c.waitFor('error', () => true, 5000, join)).toMatchObject({ code: 'store_unavailable' });
      // A chat this replica has no live channel for yet: still a quick, clear failure.
      const other = newChatId();
      const t1 = Date.now();
      const fresh = c.frames.length;
      c.send({ type: 'send', chatId: other, clientMsgId: newMsgId(), text: 'new chat while down' });
      expect(await c.waitFor('error', () => true, 5000, fresh)).toMatchObject({ code: 'store_unavailable', chatId: other });
      expect(Date.now() - t1).toBeLessThan(2000);

      await redis.restart();
      // The same clientMsgId again (retry before an ack): now stored and answered.
      let acked = false;
      for (let i = 0; i < 40 && !acked; i++) {
        const from = c.frames.length;
        c.send({ type: 'send', chatId, clientMsgId: id, text: 'while down' });
        const f = await Promise.race([c.waitFor('ack', () => true, 3000, from), c.waitFor('error', () => true, 3000, from)]);
        acked = f.type === 'ack';
        if (!acked) await sleep(250);
      }
      expect(acked).toBe(true);
      await c.waitFor('done', (f) => f.reply === 'echo: while down', 5000);
      expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(200);
      const h = c.frames.length;
      c.send({ type: 'join', chatId });
      const history = (await c.waitFor('history', () => true, 5000, h)) as HistoryFrame;
      expect(history.messages.map((m) => m.text)).toEqual(['before', 'echo: before', 'while down', 'echo: while down']);
    } finally {
      await server.close();
    }
  });

  it('Redis killed mid-turn: watchers get store_unavailable; the next join repairs the turn', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['part '] });
    const server = await startTestServer({ redisUrl: redis.url, geminiBaseUrl: stub.baseUrl, env: { TURN_LEASE_MS: '600' } });
    try {
      const c = await server.client();
      const chatId = newChatId();
      c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'q' });
      await c.waitFor('delta');
      await redis.kill();
      stub.release();
      const err = await c.waitFor('error', () => true, 5000);
      expect(err).toMatchObject({ code: 'store_unavailable', retryable: true });
      await redis.restart();
      await sleep(1000); // the lease (600 ms) expires
      const c2 = await server.client();
      c2.send({ type: 'join', chatId });
      const h = (await c2.waitFor('history', () => true, 8000)) as HistoryFrame;
      // Taken over at the join: the history shows the new turn, answered to its done.
      const turn = h.turn as { turnId: string; replyTo: string };
      expect(turn.replyTo).toBe(h.messages[0]!.id);
      const done = await c2.waitFor('done', (f) => f.turnId === turn.turnId, 8000);
      expect(done.reply).toBe('echo: q');
    } finally {
      await server.close();
    }
  });

  it('stop on a turn whose producer is gone ends it as stopped, with its partial text', async () => {
    stub.reset();
    stub.enqueue({ kind: 'hold', pieces: ['half '] });
    const env = { REDIS_URL: redis.url, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: stub.baseUrl, TURN_LEASE_MS: '600' };
    const producer = await startReplica(env);
    const other = await startTestServer({ redisUrl: redis.url, geminiBaseUrl: stub.baseUrl, keyPrefix: '', env: { TURN_LEASE_MS: '600' } });
    try {
      const chatId = newChatId();
      const sender = await TestClient.connect(producer.url);
      sender.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'q' });
      await sender.waitFor('delta');
      await sleep(100);
      producer.kill('SIGKILL');
      await producer.exited;
      await sleep(800); // the lease expires
      const c = await other.client();
      c.send({ type: 'stop', chatId });
      // no join: the stopping socket implies nothing; a join now shows the stopped answer
      await sleep(300);
      c.send({ type: 'join', chatId });
      const h = (await c.waitFor('history')) as HistoryFrame;
      expect(h.turn).toBeNull();
      expect(h.messages.at(-1)).toMatchObject({ role: 'model', text: 'half ', status: 'stopped' });
    } finally {
      producer.kill('SIGKILL');
      await other.close();
    }
  });

  it('a conversation survives a restart of the server', async () => {
    const a = await startTestServer({ redisUrl: redis.url, geminiBaseUrl: stub.baseUrl, keyPrefix: 'restart:' });
    const chatId = newChatId();
    const c = await a.client();
    c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'remember me' });
    await c.waitFor('done');
    await a.close();
    const b = await startTestServer({ redisUrl: redis.url, geminiBaseUrl: stub.baseUrl, keyPrefix: 'restart:' });
    try {
      const c2 = await b.client();
      c2.send({ type: 'join', chatId });
      const h = (await c2.waitFor('history')) as HistoryFrame;
      expect(h.messages.map((m) => m.text)).toEqual(['remember me', 'echo: remember me']);
      c2.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'and now?' });
      await c2.waitFor('done');
      expect(stub.requests.at(-1)!.contents.map((x) => x.text)).toEqual(['remember me', 'echo: remember me', 'and now?']);
    } finally {
      await b.close();
    }
  });

  describe('SIGTERM (the built dist/main.js)', () => {
    it('drains: /readyz 503, sockets closed 1012, the streaming turn finishes and is stored, exit 0', async () => {
      stub.reset();
      stub.enqueue({ kind: 'hold', pieces: ['draining '], rest: ['finished'] });
      const env = { REDIS_URL: redis.url, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: stub.baseUrl, SHUTDOWN_GRACE_MS: '5000' };
      const proc = await startReplica(env);
      const chatId = newChatId();
      const c = await TestClient.connect(proc.url);
      c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'q' });
      await c.waitFor('delta');
      proc.kill('SIGTERM');
      expect(await c.waitForClose()).toBe(1012);
      await sleep(100);
      expect((await fetch(`${proc.httpUrl}/readyz`)).status).toBe(503);
      await expect(TestClient.connect(proc.url)).rejects.toThrow('HTTP 503');
      stub.release();
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain('"finishReason":"stop"');

      const next = await startReplica(env);
      try {
        const c2 = await TestClient.connect(next.url);
        c2.send({ type: 'join', chatId });
        const h = (await c2.waitFor('history')) as HistoryFrame;
        expect(h.turn).toBeNull();
        expect(h.messages.at(-1)).toMatchObject({ text: 'draining finished', status: 'complete' });
      } finally {
        next.kill();
        await next.exited;
      }
    });

    it('the producing replica killed (SIGKILL): a watcher on another replica gets the takeover and its done', async () => {
      stub.reset();
      stub.enqueue({ kind: 'hold', pieces: ['doomed '] });
      const env = { REDIS_URL: redis.url, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: stub.baseUrl, TURN_LEASE_MS: '1000' };
      const producer = await startReplica(env);
      const watcherServer = await startTestServer({
        redisUrl: redis.url,
        geminiBaseUrl: stub.baseUrl,
        keyPrefix: '',
        env: { TURN_LEASE_MS: '1000' },
      });
      try {
        const chatId = newChatId();
        const watcher = await watcherServer.client();
        watcher.send({ type: 'join', chatId });
        await watcher.waitFor('history');
        const sender = await TestClient.connect(producer.url);
        sender.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'q' });
        const first = (await watcher.waitFor('start')) as StartFrame;
        await watcher.waitFor('delta');
        producer.kill('SIGKILL');
        const t0 = Date.now();
        const takeover = await watcher.waitFor('start', (f) => f.turnId !== first.turnId, 8000);
        expect(Date.now() - t0).toBeLessThan(5000);
        expect(takeover).toMatchObject({ replyTo: first.replyTo, replaces: null });
        const done = await watcher.waitFor('done', (f) => f.turnId === takeover.turnId, 8000);
        expect(done.reply).toBe('echo: q');
      } finally {
        producer.kill('SIGKILL');
        await watcherServer.close();
      }
    });

    it('a turn handed over at the end of the grace is taken over at once by a replica watching the chat', async () => {
      stub.reset();
      stub.enqueue({ kind: 'hold', pieces: ['slow '] });
      const env = { REDIS_URL: redis.url, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: stub.baseUrl, SHUTDOWN_GRACE_MS: '300' };
      const draining = await startReplica(env);
      // Default lease (5 s): only the handover, not the watchdog, can explain a quick takeover.
      const other = await startTestServer({ redisUrl: redis.url, geminiBaseUrl: stub.baseUrl, keyPrefix: '' });
      try {
        const chatId = newChatId();
        const watcher = await other.client();
        watcher.send({ type: 'join', chatId });
        await watcher.waitFor('history');
        const sender = await TestClient.connect(draining.url);
        sender.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'q' });
        const first = (await watcher.waitFor('start')) as StartFrame;
        await watcher.waitFor('delta');
        const t0 = Date.now();
        draining.kill('SIGTERM');
        const takeover = await watcher.waitFor('start', (f) => f.turnId !== first.turnId, 4000);
        expect(Date.now() - t0).toBeLessThan(2500);
        expect(takeover.replyTo).toBe(first.replyTo);
        expect((await watcher.waitFor('done', (f) => f.turnId === takeover.turnId, 8000)).reply).toBe('echo: q');
        expect(await draining.exited).toBe(0);
      } finally {
        draining.kill('SIGKILL');
        await other.close();
      }
    });

    it('past SHUTDOWN_GRACE_MS the turn is handed over, never stored as stopped; the next join takes it over', async () => {
      stub.reset();
      stub.enqueue({ kind: 'hold', pieces: ['slow '] });
      const env = { REDIS_URL: redis.url, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: stub.baseUrl, SHUTDOWN_GRACE_MS: '300' };
      const proc = await startReplica(env);
      const chatId = newChatId();
      const c = await TestClient.connect(proc.url);
      c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'q' });
      await c.waitFor('delta');
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain('turn handed over');

      const next = await startReplica(env);
      try {
        const c2 = await TestClient.connect(next.url);
        c2.send({ type: 'join', chatId });
        const h = (await c2.waitFor('history')) as HistoryFrame;
        expect(h.messages.map((m) => m.role)).toEqual(['user']);
        const turn = h.turn as { turnId: string };
        const done = await c2.waitFor('done', (f) => f.turnId === turn.turnId, 8000);
        expect(done).toMatchObject({ reply: 'echo: q', finishReason: 'stop' });
      } finally {
        next.kill();
        await next.exited;
      }
    });
  });
});
