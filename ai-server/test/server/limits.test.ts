import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryFrame } from '@ai-chat/protocol';
import { sharedRedis } from '@ai-chat/testkit/redis-server';
import { startReplica, type ReplicaProcess } from '@ai-chat/testkit/replica';
import { newChatId, newMsgId, startTestServer } from '@ai-chat/testkit/replica-in-process';
import { sleep, TestClient } from '@ai-chat/testkit/ws-client';
import { ChatHttpServer } from '../../src/server/http-server.js';

const redis = await sharedRedis();

/** A client address of its own, as the trusted proxy would forward it. */
const address = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

async function connectAs(url: string, forwardedFor: string | null): Promise<TestClient> {
  const c = await TestClient.connect(url, forwardedFor === null ? {} : { headers: { 'x-forwarded-for': forwardedFor } });
  c.send({ type: 'hello', protocol: 1 });
  await c.waitFor('welcome');
  return c;
}

/** Two replica processes on one Redis, behind a (pretend) proxy, with small limits. */
describe.skipIf(!redis)('limits shared by two replica processes', () => {
  let one: ReplicaProcess;
  let two: ReplicaProcess;
  const open: TestClient[] = [];
  const as = async (replica: ReplicaProcess, ip: string | null) => {
    const c = await connectAs(replica.url, ip);
    open.push(c);
    return c;
  };
  beforeAll(async () => {
    const env = {
      REDIS_URL: redis!.url,
      TRUST_PROXY: '1',
      MAX_CONNECTIONS: '10',
      MAX_CONNECTIONS_PER_CLIENT: '2',
      RATE_LIMIT_PER_MINUTE: '1',
      RATE_LIMIT_BURST: '2',
      CHAT_RATE_LIMIT_PER_MINUTE: '1',
      READ_RATE_LIMIT_PER_SECOND: '1',
      READ_RATE_LIMIT_BURST: '3',
      MAX_CHATS_PER_SOCKET: '2',
    };
    [one, two] = await Promise.all([startReplica(env), startReplica(env)]);
  }, 30_000);
  afterAll(async () => {
    for (const c of open) c.close();
    for (const replica of [one as ReplicaProcess | undefined, two as ReplicaProcess | undefined]) await replica?.stop();
    await redis?.stop();
  });

  it('messages per client across replicas: beyond the burst rate_limited with retryAfterMs; a refused send stores nothing; a resend is answered, never counted', async () => {
    const ip = address();
    const a = await as(one, ip);
    const b = await as(two, ip);
    const [c1, c2, c3] = [newChatId(), newChatId(), newChatId()];
    const [m1, m2, m3] = [newMsgId(), newMsgId(), newMsgId()];
    a.send({ type: 'send', chatId: c1, clientMsgId: m1, text: 'one' });
    expect(await a.waitFor('ack', (f) => f.clientMsgId === m1)).toMatchObject({ duplicate: false });
    b.send({ type: 'send', chatId: c2, clientMsgId: m2, text: 'two' });
    expect(await b.waitFor('ack', (f) => f.clientMsgId === m2)).toMatchObject({ duplicate: false });
    a.send({ type: 'send', chatId: c3, clientMsgId: m3, text: 'three' });
    const refused = await a.waitFor('error', (f) => f.clientMsgId === m3);
    expect(refused).toMatchObject({ code: 'rate_limited', retryable: true, chatId: c3 });
    expect(refused.retryAfterMs).toBeGreaterThan(50_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // The refusal is counted by its reason.
    const exposed = await (await fetch(`${one.httpUrl}/metrics`)).text();
    expect(exposed).toMatch(/^aichat_refusals_total\{reason="rate_limit_client"\} 1$/m);
    // The same clientMsgId again, many times, on both replicas: answered as a duplicate each time.
    await a.waitFor('done', (f) => f.chatId === c1, 10_000);
    for (const socket of [a, b, a, b]) {
      socket.send({ type: 'send', chatId: c1, clientMsgId: m1, text: 'one' });
      expect(await socket.next('ack', (f) => f.clientMsgId === m1)).toMatchObject({ duplicate: true });
    }
    // Nothing of the refused send was stored.
    const reader = await as(two, address());
    reader.send({ type: 'join', chatId: c3 });
    expect(await reader.waitFor('history', (f) => f.chatId === c3)).toMatchObject({ messages: [], turn: null });
    // Another client is not affected.
    const other = await as(one, address());
    const m4 = newMsgId();
    other.send({ type: 'send', chatId: newChatId(), clientMsgId: m4, text: 'mine' });
    await other.waitFor('ack', (f) => f.clientMsgId === m4);
  });

  it('a client-written X-Forwarded-For entry left of the proxy one changes nothing', async () => {
    const ip = address();
    const a = await as(one, `203.0.113.1, ${ip}`);
    const m1 = newMsgId();
    a.send({ type: 'send', chatId: newChatId(), clientMsgId: m1, text: 'one' });
    await a.waitFor('ack', (f) => f.clientMsgId === m1);
    const b = await as(two, `203.0.113.2, ${ip}`);
    const m2 = newMsgId();
    b.send({ type: 'send', chatId: newChatId(), clientMsgId: m2, text: 'two' });
    await b.waitFor('ack', (f) => f.clientMsgId === m2);
    const m3 = newMsgId();
    b.send({ type: 'send', chatId: newChatId(), clientMsgId: m3, text: 'three' });
    expect(await b.waitFor('error', (f) => f.clientMsgId === m3)).toMatchObject({ code: 'rate_limited' });
  });

  it('messages per chat: a second message in the chat within its budget is refused, whoever sends it', async () => {
    const chatId = newChatId();
    const a = await as(one, address());
    const m1 = newMsgId();
    a.send({ type: 'send', chatId, clientMsgId: m1, text: 'one' });
    await a.waitFor('done', (f) => f.chatId === chatId, 10_000);
    const b = await as(two, address());
    const m2 = newMsgId();
    b.send({ type: 'send', chatId, clientMsgId: m2, text: 'two' });
    expect(await b.waitFor('error', (f) => f.clientMsgId === m2)).toMatchObject({ code: 'rate_limited', chatId });
    b.send({ type: 'join', chatId });
    const history = (await b.waitFor('history', (f) => f.chatId === chatId)) as HistoryFrame;
    expect(history.messages.map((m) => m.role)).toEqual(['user', 'model']);
  });

  it('reads per client over all its sockets and replicas: beyond the burst rate_limited; its messages still pass', async () => {
    const ip = address();
    const a = await as(one, ip);
    const b = await as(two, ip);
    for (const socket of [a, b, a]) {
      const chatId = newChatId();
      socket.send({ type: 'join', chatId });
      await socket.waitFor('history', (f) => f.chatId === chatId);
      socket.send({ type: 'leave', chatId });
    }
    const chatId = newChatId();
    b.send({ type: 'join', chatId });
    const refused = await b.waitFor('error', (f) => f.chatId === chatId);
    expect(refused).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
    const m = newMsgId();
    b.send({ type: 'send', chatId: newChatId(), clientMsgId: m, text: 'still' });
    await b.waitFor('ack', (f) => f.clientMsgId === m);
  });

  it('MAX_CHATS_PER_SOCKET: one chat more than the cap is a bad_request; after a leave it is accepted', async () => {
    const a = await as(one, address());
    const [c1, c2, c3] = [newChatId(), newChatId(), newChatId()];
    for (const chatId of [c1, c2]) {
      a.send({ type: 'join', chatId });
      await a.waitFor('history', (f) => f.chatId === chatId);
    }
    a.send({ type: 'join', chatId: c3 });
    expect(await a.waitFor('error', (f) => f.chatId === c3)).toMatchObject({ code: 'bad_request' });
    a.send({ type: 'leave', chatId: c1 });
    await sleep(1100); // one read token back
    a.send({ type: 'join', chatId: c3 });
    await a.waitFor('history', (f) => f.chatId === c3);
  });

  it('MAX_CONNECTIONS=10, MAX_CONNECTIONS_PER_CLIENT=2: beyond them HTTP 503 before the upgrade; open sockets stay', async () => {
    for (const c of open.splice(0)) {
      c.close();
      await c.waitForClose();
    }
    await sleep(100);
    const ip = address();
    const mine = [await as(one, ip), await as(one, `198.51.100.9, ${ip}`)];
    await expect(connectAs(one.url, ip)).rejects.toThrow('HTTP 503');
    await expect(connectAs(one.url, `198.51.100.7, ${ip}`)).rejects.toThrow('HTTP 503');
    // The cap is per replica: the other one still takes this client.
    await as(two, ip);
    const others = await Promise.all(Array.from({ length: 8 }, () => as(one, address())));
    await expect(connectAs(one.url, address())).rejects.toThrow('HTTP 503');
    for (const c of [...mine, ...others]) {
      c.send({ type: 'hello', protocol: 1 });
      await c.next('welcome');
    }
    others[0]!.close();
    await others[0]!.waitForClose();
    await sleep(100);
    await as(one, address());
  });
});

describe('connection caps without a trusted proxy', () => {
  it('X-Forwarded-For is ignored: the socket address is the client', async () => {
    const replica = await startReplica({ MAX_CONNECTIONS_PER_CLIENT: '2' });
    const opened: TestClient[] = [];
    try {
      opened.push(await connectAs(replica.url, address()), await connectAs(replica.url, address()));
      await expect(connectAs(replica.url, address())).rejects.toThrow('HTTP 503');
    } finally {
      for (const c of opened) c.close();
      await replica.stop();
    }
  });
});

describe('HTTP request heads', () => {
  const rawRequest = (port: number, chunks: string[], gapMs: number) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
      void (async () => {
        for (const chunk of chunks) {
          if (socket.destroyed) return;
          socket.write(chunk);
          await sleep(gapMs);
        }
      })();
    });

  it('a head over the size limit is answered 431; one too slow 408', async () => {
    const app = await startTestServer({});
    const http = new ChatHttpServer({ ...app.app.config, headersTimeoutMs: 500 }, app.app.service, app.app.store, pino({ level: 'silent' }));
    const { port } = await http.listen(0, '127.0.0.1');
    try {
      const huge = await rawRequest(port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`], 0);
      expect(huge).toMatch(/^HTTP\/1\.1 431 /);
      const slow = await rawRequest(port, ['GET /healthz HTTP/1.1\r\n', 'Host: x\r\n', ...Array.from({ length: 20 }, (_, i) => `X-${i}: y\r\n`)], 200);
      expect(slow).toMatch(/^HTTP\/1\.1 408 /);
      const fine = await rawRequest(port, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 0);
      expect(fine).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      await http.close();
      await app.close();
    }
  });
});

describe('MAX_BUFFERED_BYTES_TOTAL', () => {
  it('readers that do not read are closed with 1013 once the replica total is spent; a reading client goes on', async () => {
    const server = await startTestServer({ env: { MAX_BUFFERED_BYTES_TOTAL: '700000' } });
    try {
      // A chat whose history frame is near its budget (about 430 KB).
      const chatId = newChatId();
      for (let i = 0; i < 200; i++) {
        const q = { id: `mq${i}`, role: 'user' as const, text: 'q'.repeat(1500), createdAt: Date.now(), status: 'complete' as const };
        const a = { id: `ma${i}`, role: 'model' as const, text: '답'.repeat(500), createdAt: Date.now(), status: 'complete' as const };
        await server.app.store.beginTurn(chatId, { kind: 'send', clientMsgId: `seed-${i}-xxxxxx`, message: q }, { turnId: `t${i}`, owner: 'seed' });
        await server.app.store.endTurn(chatId, { turnId: `t${i}`, mode: 'owner', message: a, replaces: null, frame: { type: 'done', chatId, turnId: `t${i}`, messageId: a.id, reply: '', finishReason: 'stop' } });
      }
      const paused = await Promise.all(Array.from({ length: 4 }, () => server.client()));
      for (const c of paused) {
        c.ws.pause();
        // 8 × 430 KB stays under MAX_BUFFERED_BYTES (4 MiB): only the replica total is spent.
        for (let i = 0; i < 8; i++) c.send({ type: 'join', chatId });
      }
      const reader = await server.client();
      await sleep(1500); // the joins are answered into the paused sockets' queues
      const closes = paused.map((c) => {
        c.ws.resume();
        return c.waitForClose(5000).catch(() => null);
      });
      // The slowest are closed, as many as the budget needs, not necessarily all.
      expect(await Promise.all(closes)).toContain(1013);
      reader.send({ type: 'join', chatId });
      expect(await reader.waitFor('history', () => true, 10_000)).toMatchObject({ chatId, truncated: true });
    } finally {
      await server.close();
    }
  });
});
