import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAiStub, type OpenAiStub } from '../src/openai-stub.js';

let stub: OpenAiStub;
beforeAll(async () => {
  stub = await startOpenAiStub({ requireApiKey: 'sk-good' });
});
afterAll(() => stub.close());

const post = (body: unknown, key = 'sk-good') =>
  fetch(`${stub.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
const ask = { model: 'm', messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi there' }] };

describe('the Chat Completions stub speaks the API’s wire format', () => {
  it('streams data: chat.completion.chunk lines, the finish, the usage when asked, then data: [DONE]', async () => {
    const res = await post({ ...ask, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter((e) => e !== '');
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)) as { object: string; choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: unknown });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('')).toBe('echo: hi there');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number) as number } });
    expect(stub.requests.at(-1)).toMatchObject({ streamed: true, systemInstruction: 'sys', contents: [{ role: 'user', text: 'hi there' }] });
  });

  it('answers a non-streamed request with one chat.completion', async () => {
    const json = (await (await post(ask)).json()) as { object: string; choices: { message: { content: string } }[] };
    expect(json.object).toBe('chat.completion');
    expect(json.choices[0]!.message.content).toBe('echo: hi there');
  });

  it('sends the API’s error bodies, retry-after on 429, and 401 for a wrong key', async () => {
    stub.enqueue({ kind: 'http-error', status: 429, retryAfter: '7' });
    const limited = await post({ ...ask, stream: true });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toMatchObject({ error: { type: 'requests', code: 'rate_limit_exceeded' } });
    const wrong = await post(ask, 'sk-bad');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it('puts an error event inside a 200 stream', async () => {
    stub.enqueue({ kind: 'stream-error', afterPieces: 1, status: 503 });
    const res = await post({ ...ask, stream: true });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n\n').filter((e) => e !== '');
    expect(JSON.parse(events.at(-1)!.slice('data: '.length))).toMatchObject({ error: { type: 'server_error' } });
  });

  it('cuts a stream mid-event, and holds a silent one open until the client aborts', async () => {
    stub.enqueue({ kind: 'cut', afterPieces: 1, partialEvent: true });
    const cut = await post({ ...ask, stream: true });
    await expect(cut.text()).rejects.toThrow();
    expect(await stub.requests.at(-1)!.outcome).toBe('cut');
    stub.enqueue({ kind: 'silence', afterPieces: 1 });
    const controller = new AbortController();
    const silent = await fetch(`${stub.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-good' },
      body: JSON.stringify({ ...ask, stream: true }),
      signal: controller.signal,
    });
    expect(silent.status).toBe(200);
    controller.abort();
    expect(await stub.requests.at(-1)!.outcome).toBe('aborted');
  });
});
