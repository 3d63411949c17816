import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AckFrame, DoneFrame, ErrorFrame, HistoryFrame, StartFrame } from '@ai-chat/protocol';
import { MODEL_PROVIDERS, startModelStub, type ModelStub } from '@ai-chat/testkit/model-stub';
import { startRedisServer, type RedisServerHandle } from '@ai-chat/testkit/redis-server';
import { startReplica, type ReplicaProcess } from '@ai-chat/testkit/replica';
import { newChatId, newMsgId, startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';
import { skip } from '@ai-chat/testkit/skips';
import { TestClient } from '@ai-chat/testkit/ws-client';

/**
 * A whole conversation once per model provider, each through the real SDK against its
 * stub: two replicas on one Redis (one of them the built server, killed mid-turn).
 */
describe.skipIf(skip.redis).each(MODEL_PROVIDERS)('a conversation through the %s provider', (provider) => {
  let redis: RedisServerHandle;
  let model: ModelStub;
  let producer: ReplicaProcess | undefined;
  let here: TestServer;

  beforeAll(async () => {
    redis = await startRedisServer();
    model = await startModelStub(provider);
    const env = { ...model.env, TURN_LEASE_MS: '1000', SYSTEM_PROMPT: 'Be brief.' };
    here = await startTestServer({ redisUrl: redis.url, keyPrefix: '', env });
    producer = await startReplica({ REDIS_URL: redis.url, ...env });
  });
  afterAll(async () => {
    producer?.kill('SIGKILL');
    await (here as TestServer | undefined)?.close();
    await (model as ModelStub | undefined)?.close();
    await (redis as RedisServerHandle | undefined)?.stop();
  });

  async function exchange(c: TestClient, chatId: string, frame: { type: 'send'; text: string } | { type: 'regenerate' }) {
    const from = c.frames.length;
    const clientMsgId = newMsgId();
    c.send({ ...frame, chatId, clientMsgId });
    const ack = (await c.waitFor('ack', (f) => f.clientMsgId === clientMsgId, 5000, from)) as AckFrame;
    const start = (await c.waitFor('start', (f) => f.replyTo === ack.messageId, 5000, from)) as StartFrame;
    return (await Promise.race([
      c.waitFor('done', (f) => f.turnId === start.turnId, 8000, from),
      c.waitFor('error', (f) => f.turnId === start.turnId, 8000, from),
    ])) as DoneFrame | ErrorFrame;
  }

  it('welcome names the model; multi-turn replies are rebuilt from the store on either replica', async () => {
    const c = await here.client({ hello: false });
    c.send({ type: 'hello', protocol: 1 });
    expect(await c.waitFor('welcome')).toMatchObject({ model: model.model });
    const chatId = newChatId();
    expect(await exchange(c, chatId, { type: 'send', text: 'first' })).toMatchObject({ type: 'done', reply: 'echo: first', finishReason: 'stop' });
    const other = await TestClient.connect(producer!.url);
    other.send({ type: 'hello', protocol: 1 });
    await other.waitFor('welcome');
    expect(await exchange(other, chatId, { type: 'send', text: 'second' })).toMatchObject({ reply: 'echo: second' });
    expect(model.requests.at(-1)!.contents).toEqual([
      { role: 'user', text: 'first' },
      { role: 'model', text: 'echo: first' },
      { role: 'user', text: 'second' },
    ]);
    expect(model.requests.at(-1)!.systemInstruction).toBe('Be brief.');
    other.close();
  });

  it('stop ends the turn as stopped with its partial text and ends the upstream request', async () => {
    model.enqueue({ kind: 'hold', pieces: ['partial '] });
    const c = await here.client();
    const chatId = newChatId();
    c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'long question' });
    await c.waitFor('delta');
    c.send({ type: 'stop', chatId });
    expect(await c.waitFor('done')).toMatchObject({ finishReason: 'stopped', reply: 'partial ' });
    expect(await model.requests.at(-1)!.outcome).toBe('aborted');
  });

  it('regenerate answers the last message again and replaces the answer', async () => {
    const c = await here.client();
    const chatId = newChatId();
    await exchange(c, chatId, { type: 'send', text: 'question' });
    model.enqueue({ kind: 'text', pieces: ['another ', 'answer'] });
    expect(await exchange(c, chatId, { type: 'regenerate' })).toMatchObject({ type: 'done', reply: 'another answer' });
    expect(model.requests.at(-1)!.contents).toEqual([{ role: 'user', text: 'question' }]);
    c.send({ type: 'join', chatId });
    const h = (await c.waitFor('history', (f) => f.chatId === chatId)) as HistoryFrame;
    expect(h.messages.map((m) => m.text)).toEqual(['question', 'another answer']);
  });

  it('an overloaded model ends the turn with llm_unavailable, detail overloaded', async () => {
    model.enqueue({ kind: 'http-error', status: 503 });
    const c = await here.client();
    expect(await exchange(c, newChatId(), { type: 'send', text: 'hi' })).toMatchObject({
      type: 'error',
      code: 'llm_unavailable',
      detail: 'overloaded',
      retryable: true,
    });
  });

  it('the producing replica killed mid-turn: the other replica takes the turn over and answers', async () => {
    model.enqueue({ kind: 'hold', pieces: ['doomed '] });
    const chatId = newChatId();
    const watcher = await here.client();
    watcher.send({ type: 'join', chatId });
    await watcher.waitFor('history');
    const sender = await TestClient.connect(producer!.url);
    sender.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'q' });
    const first = (await watcher.waitFor('start')) as StartFrame;
    await watcher.waitFor('delta');
    producer!.kill('SIGKILL');
    await producer!.exited;
    producer = undefined;
    const takeover = await watcher.waitFor('start', (f) => f.turnId !== first.turnId, 8000);
    expect(takeover).toMatchObject({ replyTo: first.replyTo, replaces: null });
    expect(await watcher.waitFor('done', (f) => f.turnId === takeover.turnId, 8000)).toMatchObject({ reply: 'echo: q' });
  });
});

describe.each(MODEL_PROVIDERS)('the idle timeout with the %s provider', (provider) => {
  it('no piece for LLM_IDLE_TIMEOUT_MS ends the turn with llm_unavailable, detail timeout, and aborts the request', async () => {
    const model = await startModelStub(provider);
    const server = await startTestServer({ env: { ...model.env, LLM_IDLE_TIMEOUT_MS: '400' } });
    try {
      model.enqueue({ kind: 'silence', afterPieces: 1 });
      const c = await server.client();
      c.send({ type: 'send', chatId: newChatId(), clientMsgId: newMsgId(), text: 'hi' });
      expect(await c.waitFor('error', (f) => f.turnId !== undefined, 5000)).toMatchObject({ code: 'llm_unavailable', detail: 'timeout' });
      expect(await model.requests[0]!.outcome).toBe('aborted');
    } finally {
      await server.close();
      await model.close();
    }
  });
});
