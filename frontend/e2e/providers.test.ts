/**
 * The page in headless Chromium once per model provider (Gemini through `@google/genai`,
 * any OpenAI-compatible endpoint through `openai`), each against its REST stub: the same
 * visitor's conversation, streamed, stopped and regenerated, whichever model answers.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '@ai-chat/testkit/browser';
import { MODEL_PROVIDERS, startModelStub, type ModelStub } from '@ai-chat/testkit/model-stub';
import { startRedisServer, type RedisServerHandle } from '@ai-chat/testkit/redis-server';
import type { ReplicaProcess } from '@ai-chat/testkit/replica';
import { skip } from '@ai-chat/testkit/skips';
import { bubbles, send, startPageServer, waitForBubbles, waitForConnection } from './helpers.ts';

describe.skipIf(skip.browser || skip.redis).each(MODEL_PROVIDERS)('the /chat page with the %s provider', (provider) => {
  let stub: ModelStub;
  let server: ReplicaProcess;
  let page: Page;
  /** What has started, stopped last first; a failed start leaves only what did start. */
  const teardown: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const redis: RedisServerHandle = await startRedisServer();
    teardown.unshift(() => redis.stop());
    stub = await startModelStub(provider);
    teardown.unshift(() => stub.close());
    server = await startPageServer({ REDIS_URL: redis.url, ...stub.env });
    teardown.unshift(() => server.stop());
    const browser: Browser = await launchBrowser({ locale: 'ko-KR' });
    teardown.unshift(() => browser.close());
    page = await browser.newPage();
    await page.goto(`${server.httpUrl}/chat`);
    await waitForConnection(page, 'open');
  });

  afterAll(async () => {
    for (const stop of teardown) await stop();
  });

  it('streams an answer, then answers a second question with the whole conversation', async () => {
    stub.enqueue({ kind: 'text', pieces: ['반갑습니다! ', '무엇을 ', '도와드릴까요?'], delayMs: 300 });
    await send(page, '안녕하세요');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'streaming', text: '반갑습니다! 무엇을' }));
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete', text: '반갑습니다! 무엇을 도와드릴까요?' }));
    const before = stub.requests.length;
    await send(page, 'And in English?');
    await waitForBubbles(page, (b) => {
      expect(b).toHaveLength(4);
      expect(b[3]).toMatchObject({ role: 'model', status: 'complete', text: 'echo: And in English?' });
    });
    expect(stub.requests[before]!.contents.map((c) => [c.role, c.text])).toEqual([
      ['user', '안녕하세요'],
      ['model', '반갑습니다! 무엇을 도와드릴까요?'],
      ['user', 'And in English?'],
    ]);
  });

  it('stop keeps the partial answer as stopped; regenerate replaces it', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['잠시만요, ', '쓰는 중'] });
    await send(page, '길게 답해 주세요');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'streaming', text: '잠시만요, 쓰는 중' }));
    await page.getByTestId('stop-button').click();
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'stopped', text: '잠시만요, 쓰는 중' }));
    await page.getByTestId('send-button').waitFor();
    const count = (await bubbles(page)).length;
    await page.locator('[data-testid="message"]').last().getByTestId('regenerate-button').click();
    await waitForBubbles(page, (b) => {
      expect(b).toHaveLength(count);
      expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete', text: 'echo: 길게 답해 주세요' });
    });
  });
});
