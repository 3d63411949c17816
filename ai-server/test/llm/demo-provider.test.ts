import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { DemoProvider } from '../../src/llm/demo-provider.js';
import type { LlmEvent, LlmMessage } from '../../src/llm/llm-provider.js';

async function collect(provider: DemoProvider, contents: LlmMessage[], signal = new AbortController().signal) {
  const events: LlmEvent[] = [];
  for await (const event of provider.stream({ contents, signal })) events.push(event);
  return events;
}

const replyOf = (events: LlmEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');
const HANGUL = /[\uAC00-\uD7AF]/;

describe('DemoProvider', () => {
  const demo = new DemoProvider({ pieceDelayMs: 0 });

  it('is the model called demo', () => {
    expect(demo.model).toBe('demo');
  });

  it('answers in English, says it is a demo, how to set the key, and quotes the question', async () => {
    const events = await collect(demo, [{ role: 'user', text: 'What is the capital of France?' }]);
    const reply = replyOf(events);
    expect(reply).toMatch(/demo/i);
    expect(reply).toContain('GEMINI_API_KEY');
    expect(reply).toContain('.env');
    expect(reply).toMatch(/restart/i);
    expect(reply).toContain('What is the capital of France?');
    expect(reply).not.toMatch(HANGUL);
    expect(events.filter((e) => e.type === 'text').length).toBeGreaterThan(5);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('answers in Korean when the last user message is Korean', async () => {
    const events = await collect(demo, [
      { role: 'user', text: 'hello' },
      { role: 'model', text: 'hi' },
      { role: 'user', text: '서울의 날씨는 어때요?' },
    ]);
    const reply = replyOf(events);
    expect(reply).toMatch(HANGUL);
    expect(reply).toContain('데모');
    expect(reply).toContain('GEMINI_API_KEY');
    expect(reply).toContain('.env');
    expect(reply).toContain('서울의 날씨는 어때요?');
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('quotes only the first 80 code points of a long question', async () => {
    const question = `${'😀'.repeat(100)} tail-not-quoted`;
    const reply = replyOf(await collect(demo, [{ role: 'user', text: question }]));
    expect(reply).toContain('😀'.repeat(80));
    expect(reply).not.toContain('😀'.repeat(81));
    expect(reply).not.toContain('tail-not-quoted');
  });

  it('streams small pieces with the delay', async () => {
    const slow = new DemoProvider({ pieceDelayMs: 10 });
    const t0 = performance.now();
    const events = await collect(slow, [{ role: 'user', text: 'hi' }]);
    const pieces = events.filter((e) => e.type === 'text');
    expect(performance.now() - t0).toBeGreaterThanOrEqual((pieces.length - 1) * 8);
    for (const p of pieces) expect(p.text.trim().split(/\s+/).length).toBeLessThanOrEqual(3);
  });

  it('stops promptly when aborted', async () => {
    const slow = new DemoProvider({ pieceDelayMs: 1000 });
    const controller = new AbortController();
    const it = slow.stream({ contents: [{ role: 'user', text: 'hi' }], signal: controller.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: 'text' });
    const pending = it.next();
    const reason = new Error('stopped');
    const t0 = performance.now();
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('throws at once on an aborted signal, and not an llm error', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await collect(demo, [{ role: 'user', text: 'hi' }], controller.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(AppError);
  });
});
