import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryFrame } from '@ai-chat/protocol';
import { sharedRedis } from '@ai-chat/testkit/redis-server';
import { newChatId, newMsgId, startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';

const redis = await sharedRedis();

/** Text that is not valid Unicode is refused at the edge and never reaches the store. */
describe.skipIf(!redis)('lone surrogates on Redis', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ redisUrl: redis!.url });
  });
  afterAll(async () => {
    await (server as TestServer | undefined)?.close();
    await redis?.stop();
  });

  it('a send with "x\\ud800y" is a bad_request, stores nothing, and regenerate still answers', async () => {
    const c = await server.client();
    const chatId = newChatId();
    c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'first 😀' });
    await c.waitFor('done', () => true, 10_000);

    const bad = newMsgId();
    c.send(`{"type":"send","chatId":"${chatId}","clientMsgId":"${bad}","text":"x\\ud800y"}`);
    expect(await c.waitFor('error', (f) => f.clientMsgId === bad)).toMatchObject({ code: 'bad_request', chatId, retryable: false });
    let from = c.frames.length;
    c.send(`{"chatId":"${chatId}","message":"\\udc00"}`);
    expect(await c.waitFor('error', () => true, 5000, from)).toMatchObject({ code: 'bad_request', chatId });

    from = c.frames.length;
    c.send({ type: 'regenerate', chatId, clientMsgId: newMsgId() });
    const end = await Promise.race([c.waitFor('done', () => true, 10_000, from), c.waitFor('error', () => true, 10_000, from)]);
    expect(end).toMatchObject({ type: 'done', chatId });

    const reader = await server.client();
    reader.send({ type: 'join', chatId });
    const history = (await reader.waitFor('history')) as HistoryFrame;
    expect(history.messages.map((m) => m.role)).toEqual(['user', 'model']);
    expect(history.messages[0]!.text).toBe('first 😀');
  });
});
