import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAiStub, type OpenAiStub } from '@ai-chat/testkit/openai-stub';
import type { LlmEvent, LlmMessage } from '../../src/llm/llm-provider.js';
import { OpenAiProvider, retryAfterMs, type OpenAiProviderOptions } from '../../src/llm/openai-provider.js';
import { ThinkFilter } from '../../src/llm/think-filter.js';

let stub: OpenAiStub;
beforeAll(async () => {
  stub = await startOpenAiStub();
});
afterAll(() => stub.close());
beforeEach(() => stub.reset());

const provider = (options: Partial<OpenAiProviderOptions> = {}) =>
  new OpenAiProvider({ baseUrl: stub.baseUrl, model: 'llama3.2', systemPrompt: 'Be brief.', apiKey: 'sk-test', ...options });
const ask: LlmMessage[] = [{ role: 'user', text: 'hi' }];

async function collect(p = provider()): Promise<LlmEvent[]> {
  const events: LlmEvent[] = [];
  for await (const e of p.stream({ contents: ask, signal: new AbortController().signal })) events.push(e);
  return events;
}
const texts = (events: LlmEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text] : []));

describe('OpenAiProvider through the real openai SDK', () => {
  it('sends a streamed Chat Completions request: model, system message, usage asked for, bearer key', async () => {
    await collect();
    const req = stub.requests[0]!;
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.streamed).toBe(true);
    expect(req.model).toBe('llama3.2');
    expect(req.apiKey).toBe('sk-test');
    expect(req.messages).toEqual([
      { role: 'system', text: 'Be brief.' },
      { role: 'user', text: 'hi' },
    ]);
    expect(req.body?.stream_options).toEqual({ include_usage: true });
  });

  it('sends no Authorization header without a key, and the extra body with every request', async () => {
    const p = provider({ apiKey: undefined, extraBody: { temperature: 0.2, keep_alive: '5m' } });
    await collect(p);
    await p.complete({ contents: ask, signal: new AbortController().signal });
    for (const req of stub.requests) {
      expect(req.headers.authorization).toBeUndefined();
      expect(req.body).toMatchObject({ temperature: 0.2, keep_alive: '5m', model: 'llama3.2' });
    }
    expect(stub.requests.map((r) => r.streamed)).toEqual([true, false]);
  });

  it('leaves reasoning_content out', async () => {
    stub.enqueue({ kind: 'text', reasoning: ['Let me think', ' more'], pieces: ['Answer'] });
    expect(texts(await collect())).toEqual(['Answer']);
  });

  it('leaves a leading <think> block out, even with the tags split across pieces', async () => {
    stub.enqueue({ kind: 'text', pieces: ['<thi', 'nk>plan the answer</th', 'ink>\n\n', 'Hello', ' there'] });
    expect(texts(await collect()).join('')).toBe('Hello there');
  });

  it('keeps text that only starts like a tag, and a <think> that is not at the start', async () => {
    stub.enqueue({ kind: 'text', pieces: ['<th', 'is is text'] });
    expect(texts(await collect()).join('')).toBe('<this is text');
    stub.enqueue({ kind: 'text', pieces: ['see <think>x</think>'] });
    expect(texts(await collect()).join('')).toBe('see <think>x</think>');
  });

  it('maps length to max_tokens, content_filter after text to safety, others to other', async () => {
    stub.enqueue(
      { kind: 'text', pieces: ['a'], finishReason: 'length' },
      { kind: 'text', pieces: ['a'], finishReason: 'content_filter' },
      { kind: 'text', pieces: ['a'], finishReason: 'tool_calls' },
    );
    expect((await collect()).at(-1)).toEqual({ type: 'finish', reason: 'max_tokens' });
    expect((await collect()).at(-1)).toEqual({ type: 'finish', reason: 'safety' });
    expect((await collect()).at(-1)).toEqual({ type: 'finish', reason: 'other' });
  });

  it('a stream ended with [DONE] but no finish_reason → llm_unavailable (cut by a proxy)', async () => {
    stub.enqueue({ kind: 'text', pieces: ['a'], finishReason: null });
    await expect(collect()).rejects.toMatchObject({ code: 'llm_unavailable', detail: 'unreachable' });
  });

  it('an error after some text is llm_unavailable, never llm_refused', async () => {
    stub.enqueue({ kind: 'stream-error', afterPieces: 2, status: 400 });
    await expect(collect()).rejects.toMatchObject({ code: 'llm_unavailable' });
  });

  it('does not retry on its own', async () => {
    stub.enqueue({ kind: 'http-error', status: 500 });
    await expect(collect()).rejects.toMatchObject({ code: 'llm_unavailable', detail: 'server_error' });
    expect(stub.requests).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  it('reads retry-after-ms, retry-after seconds, and an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '1500' }))).toBe(1500);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(retryAfterMs(new Headers({ 'retry-after': inTenSeconds }))).toBeGreaterThan(8000);
    expect(retryAfterMs(new Headers())).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe('ThinkFilter', () => {
  it('passes plain text through and drops only a leading block', () => {
    const f = new ThinkFilter();
    expect(['  <think>', 'x', '</think>', '  ', 'ok', ' <think>'].map((p) => f.push(p)).join('')).toBe('ok <think>');
  });

  it('an unfinished block at the end shows nothing; an unfinished tag is given back', () => {
    const a = new ThinkFilter();
    a.push('<think>still thinking');
    expect(a.end()).toBe('');
    const b = new ThinkFilter();
    expect(b.push('<thi')).toBe('');
    expect(b.end()).toBe('<thi');
  });
});
