/**
 * The page in headless Chromium against the real ai-server serving the built page, with
 * a real Redis and the Gemini stub: what a visitor does, end to end.
 *
 * Run: npm run build -w ai-server && npm run build -w frontend && npm run test:e2e -w frontend
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchBrowser, type Browser } from '@ai-chat/testkit/browser';
import { startGeminiStub, type GeminiStub } from '@ai-chat/testkit/gemini-stub';
import { startRedisServer, type RedisServerHandle } from '@ai-chat/testkit/redis-server';
import type { ReplicaProcess } from '@ai-chat/testkit/replica';
import { skip } from '@ai-chat/testkit/skips';
import { bubbles, screenshotPath, send, startPageServer, waitForBubbles, waitForConnection } from './helpers.ts';

describe.skipIf(skip.browser || skip.redis)('the /chat page in Chromium, against ai-server + Redis + the Gemini stub', () => {
  let redis: RedisServerHandle;
  let stub: GeminiStub;
  let server: ReplicaProcess;
  let browser: Browser;
  let page: Page;

  /** What has started, stopped last first; a failed start leaves only what did start. */
  const teardown: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    teardown.unshift(() => redis.stop());
    stub = await startGeminiStub();
    teardown.unshift(() => stub.close());
    server = await startPageServer({
      REDIS_URL: redis.url,
      GEMINI_API_KEY: 'test-key',
      GEMINI_BASE_URL: stub.baseUrl,
      TURN_LEASE_MS: '2000',
    });
    teardown.unshift(() => server.stop());
    browser = await launchBrowser({ locale: 'ko-KR' });
    teardown.unshift(() => browser.close());
    page = await browser.newPage();
    page.on('pageerror', (err) => console.error('page error:', err));
  });

  afterAll(async () => {
    for (const stop of teardown) await stop();
  });

  it('/ redirects to /chat; an unknown path shows the page’s own 404', async () => {
    await page.goto(`${server.httpUrl}/nothing/here`);
    await page.getByTestId('not-found').waitFor();
    expect(await page.locator('h1').textContent()).toBe('페이지를 찾을 수 없습니다');
    await page.goto(server.httpUrl);
    await page.waitForURL(/\/chat$/);
    await waitForConnection(page, 'open');
    expect(await page.locator('h1').textContent()).toBe('AI 비서');
    expect(await page.getByText('무엇이든 물어보세요').count()).toBe(1);
  });

  it('sends with Enter and shows the streamed answer', async () => {
    stub.enqueue({ kind: 'text', pieces: ['반갑습니다! ', '무엇을 ', '도와드릴까요?'], delayMs: 300 });
    await send(page, '안녕하세요, 반가워요');
    // The answer streams: seen in part while it is being written, then stored whole.
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'streaming', text: '반갑습니다! 무엇을' }));
    const done = await waitForBubbles(page, (b) => {
      expect(b.map((x) => [x.role, x.status])).toEqual([
        ['user', 'complete'],
        ['model', 'complete'],
      ]);
    });
    expect(done[0]!.text).toBe('안녕하세요, 반가워요');
    expect(done[1]!.text).toBe('반갑습니다! 무엇을 도와드릴까요?');
    // Focus stays in the field for the next message; the field is empty.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('chat-input');
    expect(await page.getByTestId('chat-input').inputValue()).toBe('');
    // The polite live region says the finished answer once.
    expect(await page.getByTestId('answer-live-region').textContent()).toContain('반갑습니다! 무엇을 도와드릴까요?');
  });

  it('answers a second question with the whole conversation', async () => {
    const before = stub.requests.length;
    await send(page, '두 번째 질문입니다');
    await waitForBubbles(page, (b) => {
      expect(b).toHaveLength(4);
      expect(b[3]).toMatchObject({ role: 'model', status: 'complete', text: 'echo: 두 번째 질문입니다' });
    });
    const req = stub.requests[before]!;
    expect(req.contents.map((c) => [c.role, c.text])).toEqual([
      ['user', '안녕하세요, 반가워요'],
      ['model', '반갑습니다! 무엇을 도와드릴까요?'],
      ['user', '두 번째 질문입니다'],
    ]);
  });

  it('restores the conversation after a reload, and in a new tab', async () => {
    const expected = await bubbles(page);
    await page.reload();
    await waitForConnection(page, 'open');
    await waitForBubbles(page, (b) => expect(b).toEqual(expected));
    const tab = await browser.newPage();
    await tab.goto(`${server.httpUrl}/chat`);
    await waitForBubbles(tab, (b) => expect(b).toEqual(expected));
    await tab.close();
  });

  it('renders Markdown (table, list, code with highlighting and a copy button), not raw HTML', async () => {
    stub.enqueue({
      kind: 'text',
      pieces: [
        '## 요약\n\n| 항목 | 값 |\n|---|---|\n| 속도 | 빠름 |\n\n',
        '- 첫째\n- 둘째\n\n```ts\nconst answer: number = 42;\nconsole.log(answer);\n```\n\n',
        '<img src=x onerror="window.__xss=1">끝',
      ],
    });
    await send(page, '마크다운 예시를 보여 주세요');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete' }));
    const last = page.locator('[data-testid="message"][data-role="model"]').last();
    await last.locator('table').waitFor();
    expect(await last.locator('li').count()).toBe(2);
    await last.locator('.code-block pre code span.token').first().waitFor({ timeout: 10_000 }); // highlighted (lazy chunk)
    expect(await last.getByTestId('copy-code-button').count()).toBe(1);
    expect(await last.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    await page.screenshot({ path: screenshotPath('chat-desktop.png') });
  });

  it('stop ends the answer being written; it is kept as stopped, with regenerate', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['잠시만요, 길게 ', '답하는 중입니다'] });
    await send(page, '길게 답해 주세요');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'streaming', text: '잠시만요, 길게 답하는 중입니다' }));
    await page.getByTestId('stop-button').click();
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'stopped' }));
    const last = page.locator('[data-testid="message"]').last();
    expect(await last.getByTestId('message-status').textContent()).toBe('답변을 중지했습니다.');
    expect((await bubbles(page)).at(-1)!.text).toBe('잠시만요, 길게 답하는 중입니다');
    await page.getByTestId('send-button').waitFor();
    // Regenerate answers the same question again and replaces the stopped answer.
    const count = (await bubbles(page)).length;
    await last.getByTestId('regenerate-button').click();
    await waitForBubbles(page, (b) => {
      expect(b).toHaveLength(count);
      expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete', text: 'echo: 길게 답해 주세요' });
    });
  });

  it('survives a server crash: reconnects by itself, keeps the conversation, sends what was typed meanwhile', async () => {
    const before = await bubbles(page);
    await server.crash();
    await waitForConnection(page, 'reconnecting', 10_000);
    expect(await page.getByTestId('connection-status').textContent()).toMatch(/재연결 중/);
    await page.setViewportSize({ width: 375, height: 740 });
    await page.screenshot({ path: screenshotPath('chat-375-reconnecting.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    // Typed while the server is down: shown as sending, sent after the reconnect.
    await send(page, '서버가 없는 동안 보낸 메시지');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'user', status: 'pending' }));
    await server.restart();
    await waitForConnection(page, 'open', 30_000);
    const after = await waitForBubbles(page, (b) => {
      expect(b).toHaveLength(before.length + 2);
      expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete', text: 'echo: 서버가 없는 동안 보낸 메시지' });
    });
    expect(after.slice(0, before.length)).toEqual(before);
    // And the next message is answered as usual.
    await send(page, '다시 연결됐나요?');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete', text: 'echo: 다시 연결됐나요?' }));
    // Sent once: the message typed during the outage was stored once.
    const users = (await bubbles(page)).filter((b) => b.role === 'user' && b.text === '서버가 없는 동안 보낸 메시지');
    expect(users).toHaveLength(1);
  });

  it('resumes an answer being written across a reload', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['새로고침 전에 쓴 ', '부분'], rest: [' 그리고 나머지'] });
    await send(page, '새로고침해도 이어지나요?');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ status: 'streaming', text: '새로고침 전에 쓴 부분' }));
    await page.reload();
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ status: 'streaming', text: '새로고침 전에 쓴 부분' }));
    stub.release();
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ status: 'complete', text: '새로고침 전에 쓴 부분 그리고 나머지' }));
  });

  it('an answer being written when the server dies is taken over (or marked interrupted) after the restart', async () => {
    stub.enqueue({ kind: 'hold', pieces: ['서버가 죽기 전에 ', '쓴 부분'] });
    await send(page, '서버가 죽어도 답해 주세요');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ status: 'streaming', text: '서버가 죽기 전에 쓴 부분' }));
    const count = (await bubbles(page)).length;
    await server.crash();
    await waitForConnection(page, 'reconnecting', 10_000);
    // The partial answer stays on screen while the server is away.
    expect((await bubbles(page)).at(-1)).toMatchObject({ status: 'streaming', text: '서버가 죽기 전에 쓴 부분' });
    await server.restart();
    await waitForConnection(page, 'open', 30_000);
    // The protocol's guarantee: a takeover answers again from the stored conversation, or the
    // turn ends as interrupted (with regenerate). Never a turn streaming forever.
    const after = await waitForBubbles(
      page,
      (b) => {
        expect(b).toHaveLength(count);
        expect(['complete', 'interrupted']).toContain(b.at(-1)!.status);
      },
      40_000,
    );
    if (after.at(-1)!.status === 'complete') expect(after.at(-1)!.text).toBe('echo: 서버가 죽어도 답해 주세요');
    else await page.locator('[data-testid="message"]').last().getByTestId('regenerate-button').waitFor();
    console.log(`after the restart the answer was ${after.at(-1)!.status === 'complete' ? 'taken over' : 'marked interrupted'}`);
  }, 90_000);

  it('new chat starts an empty conversation that a reload keeps', async () => {
    await page.getByTestId('new-chat-button').click();
    await waitForBubbles(page, (b) => expect(b).toEqual([]));
    await send(page, '새 대화의 첫 메시지');
    await waitForBubbles(page, (b) => expect(b.map((x) => x.text)).toEqual(['새 대화의 첫 메시지', 'echo: 새 대화의 첫 메시지']));
    await page.reload();
    await waitForBubbles(page, (b) => expect(b).toHaveLength(2));
  });

  it('an LLM failure shows its code in Korean with regenerate', async () => {
    stub.enqueue({ kind: 'http-error', status: 503 });
    await send(page, '실패해 볼까요');
    const failed = await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'error' }), 30_000);
    expect(failed.at(-1)!.role).toBe('model');
    const last = page.locator('[data-testid="message"]').last();
    expect(await last.getByTestId('message-status').textContent()).toMatch(/AI 모델/);
    await last.getByTestId('regenerate-button').click();
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete', text: 'echo: 실패해 볼까요' }));
  });

  it('follows the answer only while the reader is at the bottom; "latest" brings them back', async () => {
    const long = await browser.newPage({ width: 800, height: 600 });
    await long.goto(`${server.httpUrl}/chat`);
    await waitForConnection(long, 'open');
    await long.getByTestId('new-chat-button').click();
    await waitForBubbles(long, (b) => expect(b).toEqual([]));
    // A long answer first, so the conversation is much taller than the view.
    stub.enqueue({ kind: 'text', pieces: Array.from({ length: 80 }, (_, i) => `앞선 답의 ${i}번째 문단\n\n`) });
    await send(long, '길게 답해 주세요');
    await waitForBubbles(long, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete' }));
    // Then an answer that keeps being written, a line every 100 ms, while the reader scrolls.
    stub.enqueue({ kind: 'text', pieces: Array.from({ length: 400 }, (_, i) => `줄 ${i}\n\n`), delayMs: 100 });
    await send(long, '계속 써 주세요');
    const lines = async () => ((await bubbles(long)).at(-1)!.text.match(/줄 \d+/g) ?? []).length;
    const grows = async (more: number) => {
      const from = await lines();
      await vi.waitFor(async () => expect(await lines()).toBeGreaterThanOrEqual(from + more), { timeout: 15_000, interval: 50 });
    };
    const distance = () =>
      long.$eval('[data-testid="message-list"]', (el) => Math.round(el.scrollHeight - el.scrollTop - el.clientHeight));
    await grows(10);
    await vi.waitFor(async () => expect(await distance()).toBeLessThanOrEqual(2), { timeout: 5_000, interval: 20 });
    expect(await long.getByTestId('latest-button').count()).toBe(0);
    // The reader scrolls up: the answer keeps growing, the view stays put.
    await long.getByTestId('message-list').hover();
    await long.mouse.wheel(0, -1500);
    await long.getByTestId('latest-button').waitFor();
    const top = await long.$eval('[data-testid="message-list"]', (el) => el.scrollTop);
    await grows(10);
    expect(Math.abs((await long.$eval('[data-testid="message-list"]', (el) => el.scrollTop)) - top)).toBeLessThan(2);
    await long.screenshot({ path: screenshotPath('chat-scrolled-up.png') });
    // "latest" goes back down and follows again.
    await long.getByTestId('latest-button').click();
    await grows(5);
    await vi.waitFor(async () => expect(await distance()).toBeLessThanOrEqual(2), { timeout: 5_000, interval: 20 });
    expect(await long.getByTestId('latest-button').count()).toBe(0);
    await long.getByTestId('stop-button').click();
    await waitForBubbles(long, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'stopped' }));
    await long.close();
  });

  it('Korean through a real IME composition (CDP): one Enter sends the whole message once', async () => {
    // Chromium's own composition events (compositionstart/update/end, isComposing, 229),
    // driven through the DevTools protocol as an IME would: the last syllable is still
    // being composed when Enter is pressed.
    await page.goto(`${server.httpUrl}/chat`);
    await waitForConnection(page, 'open');
    await page.getByTestId('new-chat-button').click();
    await waitForBubbles(page, (b) => expect(b).toEqual([]));
    const cdp = await page.context().newCDPSession(page);
    const input = page.getByTestId('chat-input');
    await input.click();
    const compose = (text: string) => cdp.send('Input.imeSetComposition', { text, selectionStart: text.length, selectionEnd: text.length });
    const commit = (text: string) => cdp.send('Input.insertText', { text });
    const imeEnter = () =>
      cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 229, nativeVirtualKeyCode: 229 });
    const before = (await bubbles(page)).length;

    for (const s of ['ㄱ', '가', '감']) await compose(s);
    await commit('감');
    for (const s of ['ㅅ', '사']) await compose(s);
    await imeEnter(); // keydown while "사" is composing (Chrome order: isComposing, 229)
    await commit('사'); // compositionend: the IME commits the last syllable
    await waitForBubbles(page, (b) => {
      expect(b.slice(before).filter((x) => x.role === 'user').map((x) => x.text)).toEqual(['감사']);
    });
    expect(await input.inputValue()).toBe('');
    // Chrome's own second keydown for the same Enter: nothing more is sent.
    await input.press('Enter');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete', text: 'echo: 감사' }));
    await page.waitForTimeout(300);
    expect((await bubbles(page)).slice(before).map((x) => x.text)).toEqual(['감사', 'echo: 감사']);

    // Japanese: the Enter that confirms the conversion does not send; the next one does.
    for (const s of ['に', 'にほ', 'にほん', '日本']) await compose(s);
    await imeEnter();
    await commit('日本');
    await page.waitForTimeout(300);
    expect((await bubbles(page)).length).toBe(before + 2);
    expect(await input.inputValue()).toBe('日本');
    await input.press('Enter');
    await waitForBubbles(page, (b) => expect(b.at(-1)).toMatchObject({ role: 'model', status: 'complete', text: 'echo: 日本' }));
    await cdp.detach();
  });

  it('is usable at 375 px wide (no horizontal scroll, Korean visible)', async () => {
    const phone = await browser.newPage({ width: 375, height: 740 });
    await phone.goto(`${server.httpUrl}/chat`);
    await waitForConnection(phone, 'open');
    await waitForBubbles(phone, (b) => expect(b.length).toBeGreaterThan(0));
    await phone.getByTestId('chat-input').fill('작은 화면에서도 잘 보이나요?');
    const widths = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    for (const id of ['chat-input', 'send-button', 'new-chat-button', 'connection-status']) {
      const box = await phone.getByTestId(id).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(375);
    }
    await phone.screenshot({ path: screenshotPath('chat-375.png') });
    await phone.close();
  });
});

describe.skipIf(skip.browser)('a new user: no API key, no Redis (the demo model)', () => {
  it('shows the demo banner and answers in Korean', async () => {
    const server = await startPageServer({ REDIS_URL: undefined, GEMINI_API_KEY: undefined });
    const browser = await launchBrowser({ locale: 'ko-KR' });
    try {
      const page = await browser.newPage({ width: 375, height: 740 });
      await page.goto(`${server.httpUrl}/chat`);
      await waitForConnection(page, 'open');
      await page.getByTestId('demo-banner').waitFor();
      await send(page, '안녕하세요! 한국어로 대답할 수 있나요?');
      const b = await waitForBubbles(page, (x) => expect(x.at(-1)).toMatchObject({ role: 'model', status: 'complete' }), 30_000);
      expect(b.at(-1)!.text.length).toBeGreaterThan(0);
      await page.screenshot({ path: screenshotPath('chat-demo-375.png') });
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
