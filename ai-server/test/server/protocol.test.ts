import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AckFrame, DeltaFrame, DoneFrame, ErrorFrame, HistoryFrame, StartFrame } from '@ai-chat/protocol';
import { startGeminiStub, type GeminiStub } from '@ai-chat/testkit/gemini-stub';
import { sharedRedis } from '@ai-chat/testkit/redis-server';
import { newChatId, newMsgId, startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';
import { sleep, type Frame, type TestClient } from '@ai-chat/testkit/ws-client';

const redis = await sharedRedis();

const isDelta = (f: Frame): f is DeltaFrame => f.type === 'delta';

/** Protocol v1 end to end: real ws clients, real Redis, the real Gemini SDK against the stub. */
describe.skipIf(!redis)('protocol v1 on Redis', () => {
  let stub: GeminiStub;
  let server: TestServer;

  beforeAll(async () => {
    stub = await startGeminiStub();
    server = await startTestServer({
      redisUrl: redis!.url,
      geminiBaseUrl: stub.baseUrl,
      env: { LLM_IDLE_TIMEOUT_MS: '4000', MAX_MESSAGE_CHARS: '100', MAX_REPLY_CHARS: '60', SYSTEM_PROMPT: 'Be brief.' },
    });
  });
  afterAll(async () => {
    // Unset when beforeAll failed part-way.
    await (server as TestServer | undefined)?.close();
    await (stub as GeminiStub | undefined)?.close();
    await redis?.stop();
  });
  beforeEach(() => stub.reset());

  /** Sends a message and waits for its turn to end; returns the frames of that turn. */
  async function exchange(c: TestClient, chatId: string, text: string, clientMsgId = newMsgId()) {
    const from = c.frames.length;
    c.send({ type: 'send', chatId, clientMsgId, text });
    const ack = (await c.waitFor('ack', (f) => f.clientMsgId === clientMsgId, 5000, from)) as AckFrame;
    const start = (await c.waitFor('start', (f) => f.replyTo === ack.messageId, 5000, from)) as StartFrame;
    const end = (await Promise.race([
      c.waitFor('done', (f) => f.turnId === start.turnId, 8000, from),
      c.waitFor('error', (f) => f.turnId === start.turnId, 8000, from),
    ])) as DoneFrame | ErrorFrame;
    return { ack, start, end, deltas: c.frames.slice(from).filter(isDelta).filter((f) => f.turnId === start.turnId) };
  }

  async function history(c: TestClient, chatId: string): Promise<HistoryFrame> {
    const from = c.frames.length;
    c.send({ type: 'join', chatId });
    return (await c.waitFor('history', (f) => f.chatId === chatId, 5000, from)) as HistoryFrame;
  }

  it('hello gets welcome with the model and limits; another protocol version is refused', async () => {
    const c = await server.client({ hello: false });
    c.send({ type: 'hello', protocol: 1 });
    const welcome = await c.waitFor('welcome');
    expect(welcome).toMatchObject({
      protocol: 1,
      model: 'gemini-2.5-flash',
      limits: { maxMessageChars: 100, maxFrameBytes: 12 * 100 + 4096 },
    });
    expect(typeof welcome.serverId).toBe('string');
    c.send({ type: 'hello', protocol: 2 });
    expect(await c.next('error')).toMatchObject({ code: 'bad_request', retryable: false });
  });

  it('join, send: ack before start, deltas in order, done with the whole reply, stored', async () => {
    const c = await server.client();
    const chatId = newChatId();
    const h = await history(c, chatId);
    expect(h).toMatchObject({ messages: [], turn: null, truncated: false });
    const { ack, start, end, deltas } = await exchange(c, chatId, '  안녕하세요 반가워요  ');
    expect(ack.duplicate).toBe(false);
    expect(c.frames.indexOf(ack)).toBeLessThan(c.frames.indexOf(start));
    expect(start).toMatchObject({ chatId, replaces: null });
    expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i + 1));
    expect(end).toMatchObject({ type: 'done', finishReason: 'stop', reply: 'echo: 안녕하세요 반가워요' });
    const reply = (end as DoneFrame).reply;
    expect(deltas.map((d) => d.text).join('')).toBe(reply);
    const req = stub.requests[0]!;
    expect(req.apiKey).toBe('test-key');
    expect(req.systemInstruction).toBe('Be brief.');
    expect(req.contents).toEqual([{ role: 'user', text: '안녕하세요 반가워요' }]);
    const after = await history(c, chatId);
    expect(after.messages).toMatchObject([
      { id: ack.messageId, role: 'user', text: '안녕하세요 반가워요', status: 'complete' },
      { id: end.messageId, role: 'model', text: reply, status: 'complete' },
    ]);
  });

  it('the second turn sends the model user/model/user, rebuilt from the store', async () => {
    const c = await server.client();
    const chatId = newChatId();
    await exchange(c, chatId, 'first question');
    await exchange(c, chatId, 'second question');
    expect(stub.requests[1]!.contents).toEqual([
      { role: 'user', text: 'first question' },
      { role: 'model', text: 'echo: first question' },
      { role: 'user', text: 'second question' },
    ]);
  });

  it('a resent clientMsgId gets ack duplicate, then history, and no second model call', async () => {
    const c = await server.client();
    const chatId = newChatId();
    const id = newMsgId();
    const first = await exchange(c, chatId, 'once', id);
    const from = c.frames.length;
    c.send({ type: 'send', chatId, clientMsgId: id, text: 'once' });
    const dup = await c.waitFor('ack', () => true, 5000, from);
    expect(dup).toMatchObject({ duplicate: true, messageId: first.ack.messageId });
    const h = await c.waitFor('history', () => true, 5000, from);
    expect(c.frames.indexOf(h)).toBeGreaterThan(c.frames.indexOf(dup));
    expect(h.messages).toHaveLength(2);
    await sleep(200);
    expect(stub.requests).toHaveLength(1);
  });

  it('a duplicate send from another socket while the answer streams: ack, history, then only newer deltas', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['a ', 'b '], rest: ['c ', 'd'], delayMs: 30 });
    const c = await server.client();
    const chatId = newChatId();
    const id = newMsgId();
    c.send({ type: 'send', chatId, clientMsgId: id, text: 'once' });
    // Both held pieces streamed (the turn may merge them into one delta).
    await vi.waitFor(() => expect(c.frames.filter(isDelta).map((d) => d.text).join('')).toBe('a b '), { timeout: 5000 });
    const other = await server.client();
    other.send({ type: 'send', chatId, clientMsgId: id, text: 'once' });
    const h = (await other.waitFor('history')) as HistoryFrame;
    stub.release();
    const done = await other.waitFor('done');
    const live = other.frames.filter((f) => f.chatId === chatId);
    expect(live.map((f) => f.type).slice(0, 2)).toEqual(['ack', 'history']);
    expect(live[0]).toMatchObject({ duplicate: true });
    const deltas = live.filter(isDelta);
    expect(deltas.every((d) => d.seq > h.turn!.seq)).toBe(true);
    expect(h.turn!.text + deltas.map((d) => d.text).join('')).toBe(done.reply);
    expect(stub.requests).toHaveLength(1);
  });

  it('a socket that closes with frames queued leaves no subscription behind', async () => {
    const { Redis } = await import('ioredis');
    const r = new Redis(redis!.url);
    const c = await server.client();
    const chatIds = Array.from({ length: 50 }, () => newChatId());
    for (const chatId of chatIds) c.send({ type: 'join', chatId });
    c.ws.terminate();
    await sleep(500);
    const channels = (await r.pubsub('CHANNELS', '*')) as string[];
    r.disconnect();
    expect(channels.filter((ch) => chatIds.some((id) => ch.includes(id)))).toEqual([]);
  });

  it('busy while a turn streams: nothing stored, the id may be sent again later', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['held '], rest: ['end'] });
    const c = await server.client();
    const chatId = newChatId();
    c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'one' });
    await c.waitFor('delta');
    const second = newMsgId();
    c.send({ type: 'send', chatId, clientMsgId: second, text: 'two' });
    expect(await c.waitFor('error', (f) => f.clientMsgId === second)).toMatchObject({ code: 'busy', retryable: true, chatId });
    stub.release();
    await c.waitFor('done');
    expect((await history(c, chatId)).messages.map((m) => m.text)).toEqual(['one', 'held end']);
    const again = await exchange(c, chatId, 'two', second);
    expect(again.ack.duplicate).toBe(false);
  });

  it('stop ends the turn with done "stopped" and keeps the partial reply; stop with no turn does nothing', async () => {
    const c = await server.client();
    const chatId = newChatId();
    c.send({ type: 'stop', chatId });
    await sleep(200);
    expect(c.frames.filter((f) => f.type === 'error' || f.type === 'done')).toHaveLength(0);

    stub.enqueue({ kind: 'hold', pieces: ['partial '] });
    c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'long answer please' });
    await c.waitFor('delta');
    c.send({ type: 'stop', chatId });
    const done = await c.waitFor('done');
    expect(done).toMatchObject({ finishReason: 'stopped', reply: 'partial ' });
    const req = stub.requests.at(-1)!;
    expect(await req.outcome).toBe('aborted');
    const h = await history(c, chatId);
    expect(h.messages.at(-1)).toMatchObject({ role: 'model', text: 'partial ', status: 'stopped' });
  });

  it('a stop from another socket ends the turn too', async () => {
    stub.enqueue({ kind: 'hold' });
    const a = await server.client();
    const b = await server.client();
    const chatId = newChatId();
    a.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'go' });
    await a.waitFor('delta');
    b.send({ type: 'stop', chatId });
    expect(await a.waitFor('done')).toMatchObject({ finishReason: 'stopped' });
  });

  it('regenerate: acked with the answered message, replaces the last model message on done', async () => {
    const c = await server.client();
    const chatId = newChatId();
    const first = await exchange(c, chatId, 'question');
    stub.enqueue({ kind: 'text', pieces: ['another ', 'answer'] });
    const id = newMsgId();
    const from = c.frames.length;
    c.send({ type: 'regenerate', chatId, clientMsgId: id });
    const ack = await c.waitFor('ack', () => true, 5000, from);
    expect(ack).toMatchObject({ messageId: first.ack.messageId, duplicate: false, clientMsgId: id });
    const start = await c.waitFor('start', () => true, 5000, from);
    expect(start).toMatchObject({ replyTo: first.ack.messageId, replaces: first.end.messageId });
    const done = await c.waitFor('done', () => true, 5000, from);
    expect(done.messageId).not.toBe(first.end.messageId);
    expect(stub.requests.at(-1)!.contents).toEqual([{ role: 'user', text: 'question' }]);
    const h = await history(c, chatId);
    expect(h.messages.map((m) => m.text)).toEqual(['question', 'another answer']);
  });

  it('a failed regenerate stores nothing: the old answer stays', async () => {
    const c = await server.client();
    const chatId = newChatId();
    const first = await exchange(c, chatId, 'question');
    stub.enqueue({ kind: 'http-error', status: 500 });
    const from = c.frames.length;
    c.send({ type: 'regenerate', chatId, clientMsgId: newMsgId() });
    const err = await c.waitFor('error', () => true, 5000, from);
    expect(err).toMatchObject({ code: 'llm_unavailable', retryable: true });
    expect(err.turnId).toBeTruthy();
    expect(err.messageId).toBeUndefined();
    const h = await history(c, chatId);
    expect(h.messages.map((m) => m.id)).toEqual([first.ack.messageId, first.end.messageId]);
  });

  it('regenerate in an empty chat is a bad_request', async () => {
    const c = await server.client();
    const id = newMsgId();
    c.send({ type: 'regenerate', chatId: newChatId(), clientMsgId: id });
    expect(await c.waitFor('error')).toMatchObject({ code: 'bad_request', clientMsgId: id });
  });

  it('two sockets joined to one chat see the same live frames; a late joiner resumes mid-turn', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['one ', 'two '], rest: ['three ', 'four'], delayMs: 80 });
    const a = await server.client();
    const b = await server.client();
    const chatId = newChatId();
    await history(a, chatId);
    await history(b, chatId);
    a.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'go' });
    await b.waitFor('delta', (f) => f.seq === 2);
    await sleep(50);
    const late = await server.client();
    const h = await history(late, chatId);
    expect(h.turn).toMatchObject({ text: 'one two ', seq: 2, replaces: null });
    stub.release();
    const [da, db, dl] = await Promise.all([a.waitFor('done'), b.waitFor('done'), late.waitFor('done')]);
    expect(da.reply).toBe('one two three four');
    expect(db.reply).toBe(da.reply);
    expect(dl.reply).toBe(da.reply);
    const seqs = (c: TestClient) => c.frames.filter(isDelta).map((f) => f.seq);
    expect(seqs(a)).toEqual(seqs(b));
    const lateSeqs = seqs(late);
    expect(lateSeqs.every((s) => s > 2)).toBe(true);
    const lateText = h.turn!.text + late.frames.filter(isDelta).map((f) => f.text).join('');
    expect(lateText).toBe(da.reply);
    expect(late.frames.some((f) => f.type === 'start')).toBe(false);
  });

  it('leave stops the live frames of that chat', async () => {
    const a = await server.client();
    const b = await server.client();
    const chatId = newChatId();
    await history(b, chatId);
    b.send({ type: 'leave', chatId });
    await sleep(100);
    await exchange(a, chatId, 'hello');
    await sleep(100);
    expect(b.frames.filter((f) => f.chatId === chatId && f.type !== 'history')).toHaveLength(0);
  });

  it('the legacy {chatId, message} frame gets exactly one {chatId, reply} frame', async () => {
    const c = await server.client({ hello: false });
    const chatId = newChatId();
    c.send({ chatId, message: 'legacy hello' });
    const reply = await c.waitFor('done');
    expect(reply).toMatchObject({ chatId, reply: 'echo: legacy hello', finishReason: 'stop' });
    c.send({ chatId, message: 'again' });
    await c.waitFor('done', (f) => f.reply === 'echo: again');
    await sleep(150);
    expect(c.frames).toHaveLength(2);
    expect(stub.requests[1]!.contents.map((x) => x.role)).toEqual(['user', 'model', 'user']);
  });

  describe('bad input gets its error code and the socket stays open', () => {
    const cases: [string, unknown, string][] = [
      ['not JSON', '{nope', 'bad_request'],
      ['not an object', '[1,2]', 'bad_request'],
      ['a JSON string', '"send"', 'bad_request'],
      ['no type', { chatId: 'x' }, 'bad_request'],
      ['unknown type', { type: 'shout' }, 'bad_request'],
      ['wrong field type', { type: 'send', chatId: 'chat-0123456789abcdef', clientMsgId: 'msg-00001', text: 42 }, 'bad_request'],
      ['missing field', { type: 'join' }, 'bad_request'],
      ['short chatId', { type: 'join', chatId: 'short' }, 'invalid_chat_id'],
      ['chatId with bad characters', { type: 'join', chatId: 'chat/../../0123456789' }, 'invalid_chat_id'],
      ['bad clientMsgId', { type: 'send', chatId: 'chat-0123456789abcdef', clientMsgId: 'x y', text: 'hi' }, 'invalid_chat_id'],
      ['empty text', { type: 'send', chatId: 'chat-0123456789abcdef', clientMsgId: 'msg-00001', text: '   ' }, 'too_long'],
      ['over-long text', { type: 'send', chatId: 'chat-0123456789abcdef', clientMsgId: 'msg-00001', text: '가'.repeat(101) }, 'too_long'],
      ['legacy with a bad chatId', { chatId: 'bad', message: 'hi' }, 'invalid_chat_id'],
    ];
    it.each(cases)('%s', async (_name, frame, code) => {
      const c = await server.client();
      c.send(frame);
      const err = await c.next('error');
      expect(err).toMatchObject({ code, retryable: false });
      c.send({ type: 'hello', protocol: 1 });
      await c.next('welcome');
    });

    it('100 code points of Korean fit exactly (characters are code points)', async () => {
      const c = await server.client();
      const chatId = newChatId();
      const { end } = await exchange(c, chatId, '😀'.repeat(100));
      expect(end.type).toBe('done');
    });

    it('a binary frame is refused with bad_request', async () => {
      const c = await server.client();
      c.ws.send(Buffer.from([1, 2, 3]));
      expect(await c.next('error')).toMatchObject({ code: 'bad_request' });
      c.send({ type: 'hello', protocol: 1 });
      await c.next('welcome');
    });

    it('a frame over the cap closes the socket with 1009', async () => {
      const c = await server.client();
      c.send({ type: 'send', chatId: newChatId(), clientMsgId: newMsgId(), text: 'x'.repeat(12 * 100 + 5000) });
      expect(await c.waitForClose()).toBe(1009);
    });

    it('a flood of garbage does not crash the server or lock a chat', async () => {
      const c = await server.client();
      const chatId = newChatId();
      for (let i = 0; i < 200; i++) c.send(i % 2 ? '\u0000\u0001' : { type: 'send', chatId, clientMsgId: 'bad id', text: null });
      await sleep(300);
      expect(c.frames.filter((f) => f.type === 'error')).toHaveLength(200);
      const { end } = await exchange(c, chatId, 'still there?');
      expect(end.type).toBe('done');
    });
  });

  describe('model failures end the turn with an error frame and a valid stored conversation', () => {
    it('429 → llm_rate_limited with retryAfterMs from RetryInfo; the failed message is stored and left out of the context', async () => {
      const c = await server.client();
      const chatId = newChatId();
      stub.enqueue({ kind: 'http-error', status: 429, retryDelay: '7s' });
      const { end, start } = await exchange(c, chatId, 'first');
      expect(end).toMatchObject({ type: 'error', code: 'llm_rate_limited', retryable: true, retryAfterMs: 7000, turnId: start.turnId, chatId });
      const h = await history(c, chatId);
      expect(h.messages.at(-1)).toMatchObject({ id: end.messageId, role: 'model', status: 'error' });
      await exchange(c, chatId, 'second');
      // The error answer is left out; the two user messages become one user turn.
      expect(stub.requests.at(-1)!.contents).toEqual([{ role: 'user', text: 'first\n\nsecond' }]);
    });

    it('500 → llm_unavailable; regenerate then answers', async () => {
      const c = await server.client();
      const chatId = newChatId();
      stub.enqueue({ kind: 'http-error', status: 500 });
      const { end } = await exchange(c, chatId, 'q');
      expect(end).toMatchObject({ code: 'llm_unavailable', retryable: true, detail: 'server_error' });
      const from = c.frames.length;
      c.send({ type: 'regenerate', chatId, clientMsgId: newMsgId() });
      const done = await c.waitFor('done', () => true, 5000, from);
      expect(done.reply).toBe('echo: q');
      const h = await history(c, chatId);
      expect(h.messages.map((m) => m.status)).toEqual(['complete', 'complete']);
    });

    it('an error inside the stream after some text → llm_unavailable with the partial text stored', async () => {
      const c = await server.client();
      const chatId = newChatId();
      stub.enqueue({ kind: 'stream-error', afterPieces: 2, pieces: ['a ', 'b ', 'c '] });
      const { end } = await exchange(c, chatId, 'q');
      expect(end).toMatchObject({ code: 'llm_unavailable' });
      const h = await history(c, chatId);
      expect(h.messages.at(-1)).toMatchObject({ status: 'error', text: 'a b ' });
    });

    it('a cut stream → llm_unavailable', async () => {
      const c = await server.client();
      stub.enqueue({ kind: 'cut', afterPieces: 1 });
      const { end } = await exchange(c, newChatId(), 'q');
      expect(end).toMatchObject({ code: 'llm_unavailable' });
    });

    it('a blocked prompt → llm_refused (not retryable)', async () => {
      const c = await server.client();
      stub.enqueue({ kind: 'text', pieces: [], promptBlocked: 'SAFETY' });
      const { end } = await exchange(c, newChatId(), 'q');
      expect(end).toMatchObject({ code: 'llm_refused', retryable: false });
    });

    it('a safety stop after some text is a done with finishReason safety', async () => {
      const c = await server.client();
      stub.enqueue({ kind: 'text', pieces: ['some ', 'text'], finishReason: 'SAFETY' });
      const { end } = await exchange(c, newChatId(), 'q');
      expect(end).toMatchObject({ type: 'done', finishReason: 'safety', reply: 'some text' });
    });

    it('a reply over MAX_REPLY_CHARS is cut and ends as max_tokens', async () => {
      const c = await server.client();
      stub.enqueue({ kind: 'text', pieces: ['0123456789'.repeat(4), '0123456789'.repeat(4)] });
      const { end } = await exchange(c, newChatId(), 'q');
      expect(end).toMatchObject({ type: 'done', finishReason: 'max_tokens' });
      // Counted in code points, as the server counts characters.
      expect(Array.from((end as DoneFrame).reply)).toHaveLength(60);
    });
  });

  describe('HTTP', () => {
    it('/healthz 200, /readyz 200 with the store up, /ws-chat without upgrade 426', async () => {
      expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(200);
      expect((await fetch(`${server.httpUrl}/ws-chat`)).status).toBe(426);
    });
  });
});

describe('model silence', () => {
  it('no piece for LLM_IDLE_TIMEOUT_MS ends the turn with llm_unavailable and aborts the request', async () => {
    const stub = await startGeminiStub({ defaultScenario: { kind: 'silence', afterPieces: 1 } });
    const server = await startTestServer({ geminiBaseUrl: stub.baseUrl, env: { LLM_IDLE_TIMEOUT_MS: '400' } });
    try {
      const c = await server.client();
      c.send({ type: 'send', chatId: newChatId(), clientMsgId: newMsgId(), text: 'hello?' });
      const err = await c.waitFor('error');
      expect(err).toMatchObject({ code: 'llm_unavailable', retryable: true, detail: 'timeout' });
      expect(await stub.requests[0]!.outcome).toBe('aborted');
    } finally {
      await server.close();
      await stub.close();
    }
  });
});

describe('Origin check before the upgrade', () => {
  it('refuses a foreign Origin with HTTP 403 and accepts an allowed one and none', async () => {
    const server = await startTestServer({ env: { ALLOWED_ORIGINS: 'https://chat.example.com' } });
    try {
      await expect(server.client({ origin: 'https://evil.example.net' })).rejects.toThrow('HTTP 403');
      await server.client({ origin: 'https://chat.example.com' });
      await server.client();
    } finally {
      await server.close();
    }
  });

  it.each([{}, { NODE_ENV: 'production' }, { NODE_ENV: 'development' }])(
    'with no ALLOWED_ORIGINS, in every mode (%o), only the same host and port',
    async (env) => {
      const server = await startTestServer({ env });
      try {
        await expect(server.client({ origin: 'https://evil.example.net' })).rejects.toThrow('HTTP 403');
        await expect(server.client({ origin: `http://127.0.0.1:${server.port + 1}` })).rejects.toThrow('HTTP 403');
        await server.client({ origin: `http://127.0.0.1:${server.port}` });
        await server.client();
      } finally {
        await server.close();
      }
    },
  );
});
