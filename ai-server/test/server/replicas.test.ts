import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGeminiStub, type GeminiStub } from '@ai-chat/testkit/gemini-stub';
import { sharedRedis } from '@ai-chat/testkit/redis-server';
import { newChatId, newMsgId, startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';
import { sleep, TestClient } from '@ai-chat/testkit/ws-client';

const redis = await sharedRedis();

/** Two replicas on one Redis: no state lives in a process. */
describe.skipIf(!redis)('two replicas sharing Redis', () => {
  let stub: GeminiStub;
  let one: TestServer;
  let two: TestServer;
  beforeAll(async () => {
    stub = await startGeminiStub();
    one = await startTestServer({ redisUrl: redis!.url, geminiBaseUrl: stub.baseUrl, keyPrefix: 'replicas:' });
    two = await startTestServer({ redisUrl: redis!.url, geminiBaseUrl: stub.baseUrl, keyPrefix: 'replicas:' });
  });
  afterAll(async () => {
    // Unset when beforeAll failed part-way.
    await (one as TestServer | undefined)?.close();
    await (two as TestServer | undefined)?.close();
    await (stub as GeminiStub | undefined)?.close();
    await redis?.stop();
  });

  it('a socket on one replica sees the turn another replica produces, and can stop it', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['from two '] });
    const watcher = await one.client();
    const sender = await two.client();
    const chatId = newChatId();
    watcher.send({ type: 'join', chatId });
    await watcher.waitFor('history');
    sender.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'hi' });
    const delta = await watcher.waitFor('delta');
    expect(delta.text).toBe('from two ');
    // busy across replicas
    const other = newMsgId();
    watcher.send({ type: 'send', chatId, clientMsgId: other, text: 'me too' });
    expect(await watcher.waitFor('error', (f) => f.clientMsgId === other)).toMatchObject({ code: 'busy' });
    watcher.send({ type: 'stop', chatId });
    const [a, b] = await Promise.all([watcher.waitFor('done'), sender.waitFor('done')]);
    expect(a).toMatchObject({ finishReason: 'stopped', reply: 'from two ' });
    expect(b.messageId).toBe(a.messageId);
  });

  it('the next message goes to the other replica and is answered with the whole conversation', async () => {
    const chatId = newChatId();
    const a = await one.client();
    a.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'first' });
    await a.waitFor('done');
    const b = await two.client();
    b.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'second' });
    await b.waitFor('done');
    expect(stub.requests.at(-1)!.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
  });
});

describe('heartbeat', () => {
  it('drops a socket that stops answering pings; keeps one that answers', async () => {
    const server = await startTestServer({ env: { HEARTBEAT_INTERVAL_MS: '150' } });
    try {
      const silent = await TestClient.connect(server.url, { autoPong: false });
      const alive = await TestClient.connect(server.url);
      const code = await silent.waitForClose(3000);
      expect(code).toBe(1006);
      await sleep(100);
      expect(alive.closeCode).toBeNull();
      alive.close();
    } finally {
      await server.close();
    }
  });
});
