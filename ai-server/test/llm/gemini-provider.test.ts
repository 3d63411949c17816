import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { GeminiProvider, parseDurationMs, parseGoogleError } from '../../src/llm/gemini-provider.js';
import type { LlmEvent, LlmMessage } from '../../src/llm/llm-provider.js';
import { echoPieces, startGeminiStub } from '@ai-chat/testkit/gemini-stub';
import type { GeminiStub, GeminiStubOutcome } from '@ai-chat/testkit/gemini-stub';

const API_KEY = 'AIzaSy-test-key-0123456789';
const SYSTEM = 'You are a test assistant.';
const SECRET_TEXT = 'my secret question 7f3a';

let stub: GeminiStub;

beforeAll(async () => {
  stub = await startGeminiStub();
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => {
  stub.reset();
});

function provider(baseUrl = stub.baseUrl): GeminiProvider {
  return new GeminiProvider({ apiKey: API_KEY, model: 'gemini-test', baseUrl, systemPrompt: SYSTEM });
}

const ask = (text = SECRET_TEXT): LlmMessage[] => [{ role: 'user', text }];

async function collect(
  contents: LlmMessage[] = ask(),
  signal: AbortSignal = new AbortController().signal,
  p: GeminiProvider = provider(),
): Promise<LlmEvent[]> {
  const events: LlmEvent[] = [];
  for await (const event of p.stream({ contents, signal })) events.push(event);
  return events;
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** The error, checked to be an AppError of `code` that leaks neither the key nor the text. */
async function appError(code: string, run: () => Promise<unknown>): Promise<AppError> {
  const err = await failure(run);
  expect(err).toBeInstanceOf(AppError);
  const appErr = err as AppError;
  expect(appErr.code).toBe(code);
  const dump = inspect(appErr, { depth: 10 });
  expect(dump).not.toContain(API_KEY);
  expect(dump).not.toContain(SECRET_TEXT);
  expect(dump).not.toContain('piece 1');
  return appErr;
}

const texts = (events: LlmEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text] : []));
const finish = (events: LlmEvent[]) => events.find((e) => e.type === 'finish');

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

describe('GeminiProvider through the real SDK', () => {
  it('streams the pieces in order and finishes stop', async () => {
    stub.enqueue({ kind: 'text', pieces: ['Hel', 'lo, ', 'wor', 'ld!'], delayMs: 5 });
    const events = await collect();
    expect(texts(events)).toEqual(['Hel', 'lo, ', 'wor', 'ld!']);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(events.filter((e) => e.type === 'finish')).toHaveLength(1);
  });

  it('sends the key header, the system instruction and the whole conversation', async () => {
    const contents: LlmMessage[] = [
      { role: 'user', text: 'first question' },
      { role: 'model', text: 'first answer' },
      { role: 'user', text: 'second question' },
    ];
    const events = await collect(contents);
    expect(texts(events).join('')).toBe('echo: second question');

    expect(stub.requests).toHaveLength(1);
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toMatch(/^\/v1beta\/models\/gemini-test:streamGenerateContent\?alt=sse$/);
    expect(req.model).toBe('gemini-test');
    expect(req.apiKey).toBe(API_KEY);
    expect(req.systemInstruction).toBe(SYSTEM);
    expect(req.contents).toEqual(contents);
    expect(req.body?.contents?.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(await req.outcome).toBe('completed');
  });

  it('leaves thought parts out', async () => {
    stub.enqueue({ kind: 'text', thoughts: ['Thinking hard', 'Still thinking'], pieces: ['Answer', ' here'] });
    const events = await collect();
    expect(texts(events)).toEqual(['Answer', ' here']);
    expect(finish(events)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('maps MAX_TOKENS to max_tokens', async () => {
    stub.enqueue({ kind: 'text', pieces: ['a', 'b'], finishReason: 'MAX_TOKENS' });
    const events = await collect();
    expect(texts(events)).toEqual(['a', 'b']);
    expect(finish(events)).toEqual({ type: 'finish', reason: 'max_tokens' });
  });

  it('maps OTHER to other', async () => {
    stub.enqueue({ kind: 'text', pieces: ['a'], finishReason: 'OTHER' });
    expect(finish(await collect())).toEqual({ type: 'finish', reason: 'other' });
  });

  it('keeps the text of a safety stop after some text and finishes safety', async () => {
    stub.enqueue({ kind: 'text', pieces: ['Some ', 'text'], finishReason: 'SAFETY' });
    const events = await collect();
    expect(texts(events)).toEqual(['Some ', 'text']);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'safety' });
  });

  it('refuses on a safety stop before any text', async () => {
    stub.enqueue({ kind: 'text', pieces: [], finishReason: 'SAFETY' });
    await appError('llm_refused', () => collect());
    stub.enqueue({ kind: 'text', pieces: [], thoughts: ['hmm'], finishReason: 'PROHIBITED_CONTENT' });
    await appError('llm_refused', () => collect());
  });

  it('refuses a blocked prompt', async () => {
    stub.enqueue({ kind: 'text', pieces: ['never shown'], promptBlocked: 'SAFETY' });
    const err = await appError('llm_refused', () => collect());
    expect(err.retryable).toBe(false);
  });

  it('maps 429 to llm_rate_limited with the RetryInfo delay', async () => {
    stub.enqueue({ kind: 'http-error', status: 429, retryDelay: '7s' });
    const err = await appError('llm_rate_limited', () => collect());
    expect(err.retryAfterMs).toBe(7000);
    expect(err.retryable).toBe(true);

    stub.enqueue({ kind: 'http-error', status: 429, retryDelay: '1.5s' });
    expect((await appError('llm_rate_limited', () => collect())).retryAfterMs).toBe(1500);

    stub.enqueue({ kind: 'http-error', status: 429 });
    expect((await appError('llm_rate_limited', () => collect())).retryAfterMs).toBeUndefined();
  });

  it('finds the RetryInfo in a body not served as JSON', async () => {
    stub.enqueue({ kind: 'http-error', status: 429, retryDelay: '7s', asText: true });
    expect((await appError('llm_rate_limited', () => collect())).retryAfterMs).toBe(7000);
  });

  it.each([
    [500, 'server_error'],
    [502, 'server_error'],
    [503, 'overloaded'],
    [504, 'timeout'],
  ])('maps HTTP %i to llm_unavailable (%s)', async (status, detail) => {
    stub.enqueue({ kind: 'http-error', status });
    const err = await appError('llm_unavailable', () => collect());
    expect(err.retryable).toBe(true);
    expect(err.detail).toBe(detail);
  });

  it.each([400, 401, 403, 404])('maps HTTP %i to llm_refused', async (status) => {
    stub.enqueue({ kind: 'http-error', status });
    const err = await appError('llm_refused', () => collect());
    expect(err.retryable).toBe(false);
  });

  it('refuses with an invalid key, and says why in the cause only', async () => {
    const strict = await startGeminiStub({ requireApiKey: 'the-right-key' });
    try {
      const err = await appError('llm_refused', () => collect(ask(), undefined, provider(strict.baseUrl)));
      expect((err.cause as Error).message).toContain('API_KEY_INVALID');
      expect(strict.requests[0]?.apiKey).toBe(API_KEY);
    } finally {
      await strict.close();
    }
  });

  it('maps an error inside the stream to llm_unavailable, after the text it sent', async () => {
    stub.enqueue({ kind: 'stream-error', afterPieces: 2 });
    const seen: string[] = [];
    await appError('llm_unavailable', async () => {
      for await (const e of provider().stream({ contents: ask(), signal: new AbortController().signal })) {
        if (e.type === 'text') seen.push(e.text);
      }
    });
    expect(seen).toEqual(['piece 1. ', 'piece 2. ']);

    stub.enqueue({ kind: 'stream-error', afterPieces: 0, status: 503 });
    expect((await appError('llm_unavailable', () => collect())).detail).toBe('overloaded');
  });

  it.each([
    { afterPieces: 2, partialEvent: false },
    { afterPieces: 2, partialEvent: true },
    { afterPieces: 0, partialEvent: false },
  ])('maps a cut stream to llm_unavailable (%o) with one request only', async (cut) => {
    stub.enqueue({ kind: 'cut', ...cut });
    expect((await appError('llm_unavailable', () => collect())).detail).toBe('unreachable');
    expect(stub.requests).toHaveLength(1);
    expect(await stub.requests[0]!.outcome).toBe('cut');
  });

  it('maps a stream that ends without a finishReason to llm_unavailable', async () => {
    stub.enqueue({ kind: 'text', pieces: ['half an ', 'answer'], finishReason: null });
    await appError('llm_unavailable', () => collect());
  });

  it('maps an unreachable endpoint to llm_unavailable', async () => {
    const gone = await startGeminiStub();
    const url = gone.baseUrl;
    await gone.close();
    expect((await appError('llm_unavailable', () => collect(ask(), undefined, provider(url)))).detail).toBe('unreachable');
  });

  it('stops promptly when aborted mid-stream, and the request is cancelled', async () => {
    stub.enqueue({ kind: 'text', pieces: Array.from({ length: 200 }, (_, i) => `p${i} `), delayMs: 20 });
    const controller = new AbortController();
    const reason = new Error('stopped by the test');
    const it = provider().stream({ contents: ask(), signal: controller.signal })[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) expect((await it.next()).value).toMatchObject({ type: 'text' });
    const t0 = performance.now();
    controller.abort(reason);
    const err = await failure(() => it.next());
    expect(err).toBe(reason);
    expect(performance.now() - t0).toBeLessThan(500);
    const outcome = await within(stub.requests[0]!.outcome, 2000, 'connection closed');
    expect(outcome).toBe<GeminiStubOutcome>('aborted');
    expect(stub.aborted).toBe(1);
  });

  it('aborts a silent stream', async () => {
    stub.enqueue({ kind: 'silence', afterPieces: 1 });
    const controller = new AbortController();
    const it = provider().stream({ contents: ask(), signal: controller.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ type: 'text', text: 'piece 1. ' });
    const pending = failure(() => it.next());
    await new Promise((r) => setTimeout(r, 100));
    expect(stub.open).toBe(1);
    const t0 = performance.now();
    controller.abort();
    const err = await within(pending, 1000, 'abort');
    expect(err).not.toBeInstanceOf(AppError);
    expect((err as Error).name).toBe('AbortError');
    expect(performance.now() - t0).toBeLessThan(500);
    expect(await within(stub.requests[0]!.outcome, 2000, 'connection closed')).toBe('aborted');
  });

  it('aborts while waiting for the response headers', async () => {
    stub.enqueue({ kind: 'text', pieces: ['late'], initialDelayMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const t0 = performance.now();
    const err = await failure(() => collect(ask(), controller.signal));
    expect(err).not.toBeInstanceOf(AppError);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await within(stub.requests[0]!.outcome, 2000, 'connection closed')).toBe('aborted');
  });

  it('cancels the request when the consumer leaves the loop early', async () => {
    stub.enqueue({ kind: 'silence', afterPieces: 1 });
    for await (const event of provider().stream({ contents: ask(), signal: new AbortController().signal })) {
      expect(event.type).toBe('text');
      break;
    }
    expect(await within(stub.requests[0]!.outcome, 2000, 'connection closed')).toBe('aborted');
  });

  it('sends nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await failure(() => collect(ask(), controller.signal));
    expect(stub.requests).toHaveLength(0);
  });
});

describe('Google error parsing', () => {
  it('reads status, reason and retry delay from the forms the SDK produces', () => {
    const body = {
      error: {
        code: 429,
        message: 'quota',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17s' }],
      },
    };
    expect(parseGoogleError(JSON.stringify(body))).toEqual({ status: 'RESOURCE_EXHAUSTED', retryAfterMs: 17_000 });
    expect(parseGoogleError(`got status: RESOURCE_EXHAUSTED. ${JSON.stringify(body)}`).retryAfterMs).toBe(17_000);
    const wrapped = { error: { message: JSON.stringify([body], null, 2), code: 429, status: 'Too Many Requests' } };
    expect(parseGoogleError(JSON.stringify(wrapped))).toEqual({ status: 'RESOURCE_EXHAUSTED', retryAfterMs: 17_000 });
    expect(parseGoogleError('not json at all')).toEqual({});
  });

  it('parses protobuf durations', () => {
    expect(parseDurationMs('7s')).toBe(7000);
    expect(parseDurationMs('0.250s')).toBe(250);
    expect(parseDurationMs({ seconds: '2', nanos: 500_000_000 })).toBe(2500);
    expect(parseDurationMs('7 seconds')).toBeUndefined();
    expect(parseDurationMs(undefined)).toBeUndefined();
  });
});

describe('gemini stub', () => {
  it('answers an unknown path with a 404 JSON error body', async () => {
    const res = await fetch(`${stub.baseUrl}/v1/models/x:generateContent`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { error: { code: number; status: string } };
    expect(body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
  });

  it('sends the API error body on the streaming endpoint', async () => {
    stub.enqueue({ kind: 'http-error', status: 429, retryDelay: '7s' });
    const res = await fetch(`${stub.baseUrl}/v1beta/models/m:streamGenerateContent?alt=sse`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        // A matcher is typed `any`; as `unknown` it stays a value to compare, not to use.
        details: expect.arrayContaining([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }]) as unknown,
      },
    });
  });

  it('holds a stream until released', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['a '], rest: ['b'] });
    const run = collect();
    const req = await stub.waitForRequest();
    await new Promise((r) => setTimeout(r, 50));
    expect(req.outcomeValue).toBeUndefined();
    expect(stub.release()).toBe(1);
    expect(texts(await run)).toEqual(['a ', 'b']);
    expect(await req.outcome).toBe('completed');
  });

  it('uses the queue first, then the default scenario, and waits for requests in order', async () => {
    stub.setScenario({ kind: 'text', pieces: ['default'] });
    stub.enqueue({ kind: 'text', pieces: ['queued'] });
    expect(texts(await collect())).toEqual(['queued']);
    expect(texts(await collect())).toEqual(['default']);
    expect((await stub.waitForRequest()).index).toBe(0);
    expect((await stub.waitForRequest()).index).toBe(1);
    await expect(stub.waitForRequest(50)).rejects.toThrow();
    stub.setScenario(null);
    expect(texts(await collect(ask('back to echo'))).join('')).toBe('echo: back to echo');
  });

  it('splits the echo into pieces that join back exactly', () => {
    const pieces = echoPieces('  one two three four  five 다섯 😀');
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('echo:   one two three four  five 다섯 😀');
  });

  it('ends held and silent responses on close', async () => {
    const own = await startGeminiStub({ defaultScenario: { kind: 'silence', afterPieces: 0 } });
    const run = failure(() => collect(ask(), undefined, provider(own.baseUrl)));
    const req = await own.waitForRequest();
    await new Promise((r) => setTimeout(r, 50));
    await own.close();
    expect(await req.outcome).toBe('closed');
    expect(await run).toMatchObject({ code: 'llm_unavailable' });
  });
});
