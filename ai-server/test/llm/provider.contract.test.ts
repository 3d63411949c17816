import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmErrorDetail } from '@ai-chat/protocol';
import { startGeminiStub, type GeminiStub, type GeminiStubScenario } from '@ai-chat/testkit/gemini-stub';
import { startOpenAiStub, type OpenAiStub, type OpenAiStubScenario } from '@ai-chat/testkit/openai-stub';
import { freePort } from '@ai-chat/testkit/ports';
import { AppError } from '../../src/errors.js';
import { DemoProvider, demoReply } from '../../src/llm/demo-provider.js';
import { GeminiProvider } from '../../src/llm/gemini-provider.js';
import type { LlmEvent, LlmMessage, LlmProvider } from '../../src/llm/llm-provider.js';
import { OpenAiProvider } from '../../src/llm/openai-provider.js';

const SECRET_KEY = 'sk-contract-key-5b1e';
const SECRET_TEXT = 'my private question 41c9';
const SYSTEM = 'You are a test assistant.';

/** The failures every remote provider must tell apart, as its own stub serves them. */
type Failure = 'refused' | 'rate-limited-7s' | 'overloaded' | 'server-error' | 'stream-error' | 'cut' | 'safety-before-text';

/** What the suite needs from one provider and the stub of its API. */
interface Harness {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  reset(): void;
  provider(baseUrl?: string): LlmProvider;
  /** An answer made of exactly these pieces, finish stop. */
  text(pieces: string[]): void;
  /** Pieces, then held open until the client aborts. */
  hold(pieces: string[]): void;
  fail(failure: Failure): void;
  /** The last request's end at the stub. */
  lastOutcome(): Promise<string>;
  /** The conversation the stub received, in the seam's terms. */
  lastContents(): { role: string; text: string }[];
  lastSystem(): string | undefined;
  reportsUsage: boolean;
}

function geminiHarness(): Harness {
  let stub: GeminiStub;
  return {
    name: 'GeminiProvider',
    reportsUsage: true,
    async start() {
      stub = await startGeminiStub();
    },
    stop: () => stub.close(),
    reset: () => stub.reset(),
    provider: (baseUrl = stub.baseUrl) => new GeminiProvider({ apiKey: SECRET_KEY, model: 'gemini-test', baseUrl, systemPrompt: SYSTEM }),
    text: (pieces) => stub.enqueue({ kind: 'text', pieces }),
    hold: (pieces) => stub.enqueue({ kind: 'silence', afterPieces: pieces.length, pieces }),
    fail(failure) {
      const scenario: Record<Failure, GeminiStubScenario> = {
        refused: { kind: 'http-error', status: 403 },
        'rate-limited-7s': { kind: 'http-error', status: 429, retryDelay: '7s' },
        overloaded: { kind: 'http-error', status: 503 },
        'server-error': { kind: 'http-error', status: 500 },
        'stream-error': { kind: 'stream-error', afterPieces: 1 },
        cut: { kind: 'cut', afterPieces: 1, partialEvent: true },
        'safety-before-text': { kind: 'text', pieces: [], finishReason: 'SAFETY' },
      };
      stub.enqueue(scenario[failure]);
    },
    lastOutcome: () => stub.requests.at(-1)!.outcome,
    lastContents: () => stub.requests.at(-1)!.contents,
    lastSystem: () => stub.requests.at(-1)!.systemInstruction,
  };
}

function openAiHarness(): Harness {
  let stub: OpenAiStub;
  return {
    name: 'OpenAiProvider',
    reportsUsage: true,
    async start() {
      stub = await startOpenAiStub();
    },
    stop: () => stub.close(),
    reset: () => stub.reset(),
    provider: (baseUrl = stub.baseUrl) => new OpenAiProvider({ apiKey: SECRET_KEY, model: 'gpt-test', baseUrl, systemPrompt: SYSTEM }),
    text: (pieces) => stub.enqueue({ kind: 'text', pieces }),
    hold: (pieces) => stub.enqueue({ kind: 'silence', afterPieces: pieces.length, pieces }),
    fail(failure) {
      const scenario: Record<Failure, OpenAiStubScenario> = {
        refused: { kind: 'http-error', status: 401 },
        'rate-limited-7s': { kind: 'http-error', status: 429, retryAfter: '7' },
        overloaded: { kind: 'http-error', status: 503 },
        'server-error': { kind: 'http-error', status: 500 },
        'stream-error': { kind: 'stream-error', afterPieces: 1 },
        cut: { kind: 'cut', afterPieces: 1, partialEvent: true },
        'safety-before-text': { kind: 'text', pieces: [], finishReason: 'content_filter' },
      };
      stub.enqueue(scenario[failure]);
    },
    lastOutcome: () => stub.requests.at(-1)!.outcome,
    lastContents: () => stub.requests.at(-1)!.contents,
    lastSystem: () => stub.requests.at(-1)!.systemInstruction,
  };
}

const ask = (text = SECRET_TEXT): LlmMessage[] => [{ role: 'user', text }];
const texts = (events: LlmEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text] : []));

async function collect(p: LlmProvider, contents: LlmMessage[] = ask(), signal = new AbortController().signal): Promise<LlmEvent[]> {
  const events: LlmEvent[] = [];
  for await (const event of p.stream({ contents, signal })) events.push(event);
  return events;
}

/** The AppError a failed stream threw, checked to leak neither the key nor the question. */
async function streamError(p: LlmProvider): Promise<AppError> {
  let caught: unknown;
  try {
    await collect(p);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(AppError);
  const dump = inspect(caught, { depth: 10 });
  expect(dump).not.toContain(SECRET_KEY);
  expect(dump).not.toContain(SECRET_TEXT);
  return caught as AppError;
}

/** The seam's events are in order: texts, then at most one usage, then at most one finish, last. */
function expectSeamOrder(events: LlmEvent[]): void {
  const kinds = events.map((e) => e.type).join(' ');
  expect(kinds).toMatch(/^(text ?)*(usage ?)?(finish)?$/);
}

describe.each([geminiHarness(), openAiHarness()])('the provider contract: $name', (h) => {
  beforeAll(() => h.start());
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  it('streams the pieces in order, then usage, then one finish stop', async () => {
    h.text(['Hel', 'lo, ', 'wor', 'ld!']);
    const events = await collect(h.provider());
    expect(texts(events)).toEqual(['Hel', 'lo, ', 'wor', 'ld!']);
    expectSeamOrder(events);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    const usage = events.find((e) => e.type === 'usage');
    if (h.reportsUsage) expect(usage).toMatchObject({ usage: { inputTokens: expect.any(Number) as number, outputTokens: expect.any(Number) as number } });
  });

  it('sends the system prompt and the whole conversation', async () => {
    const contents: LlmMessage[] = [
      { role: 'user', text: 'first question' },
      { role: 'model', text: 'first answer' },
      { role: 'user', text: 'second question' },
    ];
    expect(texts(await collect(h.provider(), contents)).join('')).toBe('echo: second question');
    expect(h.lastContents()).toEqual(contents);
    expect(h.lastSystem()).toBe(SYSTEM);
  });

  it('an abort ends the upstream request and the stream', async () => {
    h.hold(['first ']);
    const controller = new AbortController();
    const seen: string[] = [];
    let caught: unknown;
    try {
      for await (const event of h.provider().stream({ contents: ask(), signal: controller.signal })) {
        if (event.type === 'text') seen.push(event.text);
        controller.abort(new Error('stop pressed'));
      }
    } catch (err) {
      caught = err;
    }
    expect(seen).toEqual(['first ']);
    expect((caught as Error).message).toBe('stop pressed');
    expect(await h.lastOutcome()).toBe('aborted');
  });

  it('leaving the loop early ends the upstream request too', async () => {
    h.hold(['first ']);
    for await (const event of h.provider().stream({ contents: ask(), signal: new AbortController().signal })) {
      if (event.type === 'text') break;
    }
    expect(await h.lastOutcome()).toBe('aborted');
  });

  const failures: [Failure, string, LlmErrorDetail | undefined][] = [
    ['refused', 'llm_refused', undefined],
    ['rate-limited-7s', 'llm_rate_limited', undefined],
    ['overloaded', 'llm_unavailable', 'overloaded'],
    ['server-error', 'llm_unavailable', 'server_error'],
    ['stream-error', 'llm_unavailable', 'server_error'],
    ['cut', 'llm_unavailable', 'unreachable'],
    ['safety-before-text', 'llm_refused', undefined],
  ];
  it.each(failures)('%s → %s, detail %s', async (failure, code, detail) => {
    h.fail(failure);
    const err = await streamError(h.provider());
    expect(err.code).toBe(code);
    expect(err.detail).toBe(detail);
    if (failure === 'rate-limited-7s') expect(err.retryAfterMs).toBe(7000);
  });

  it('an endpoint nobody listens on → llm_unavailable, detail unreachable', async () => {
    const port = await freePort();
    const base = h.name === 'OpenAiProvider' ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`;
    const err = await streamError(h.provider(base));
    expect(err).toMatchObject({ code: 'llm_unavailable', detail: 'unreachable' });
  });

  it('complete() answers once with the whole text', async () => {
    h.text(['A short ', 'title']);
    const answer = await h.provider().complete({ contents: ask('name this chat'), signal: new AbortController().signal });
    expect(answer).toMatchObject({ text: 'A short title', finishReason: 'stop' });
    if (h.reportsUsage) expect(answer.usage?.inputTokens).toBeGreaterThan(0);
  });

  it('complete() fails like stream()', async () => {
    h.fail('overloaded');
    const err = await h.provider().complete({ contents: ask(), signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'llm_unavailable', detail: 'overloaded' });
  });
});

describe('the provider contract: DemoProvider', () => {
  const demo = new DemoProvider({ pieceDelayMs: 1 });

  it('streams pieces in order that make the demo reply, then one finish stop; reports no usage', async () => {
    const events = await collect(demo, ask('hello'));
    expectSeamOrder(events);
    expect(texts(events).join('')).toBe(demoReply(ask('hello')));
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(events.some((e) => e.type === 'usage')).toBe(false);
  });

  it('an abort ends the stream with the caller’s reason', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const run = async () => {
      for await (const event of demo.stream({ contents: ask('hello'), signal: controller.signal })) {
        if (event.type === 'text') seen.push(event.text);
        controller.abort(new Error('stop pressed'));
      }
    };
    await expect(run()).rejects.toThrow('stop pressed');
    expect(seen).toHaveLength(1);
  });

  it('complete() answers once with the whole text', async () => {
    const answer = await demo.complete({ contents: ask('hello'), signal: new AbortController().signal });
    expect(answer).toEqual({ text: demoReply(ask('hello')), finishReason: 'stop', usage: undefined });
  });
});
