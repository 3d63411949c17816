import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';
import { sleep } from '@ai-chat/testkit/ws-client';

const CHAT = 'chat-0123456789abcdef';

/** Frames each refused by the edge, of several reasons. */
const BAD_FRAMES = [
  'not json',
  '{"type":"nope"}',
  `{"type":"send","chatId":"${CHAT}","clientMsgId":"msg-00000001","text":"x\\ud800y"}`,
  `{"type":"join","chatId":"short"}`,
  `{"type":"send","chatId":"${CHAT}","clientMsgId":"msg-00000001","text":"${'a'.repeat(50)}"}`,
];

/** A server at the most verbose level whose every log line is kept. */
async function verboseServer(): Promise<{ server: TestServer; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const server = await startTestServer({ logger, env: { LOG_LEVEL: 'trace', MAX_MESSAGE_CHARS: '10' } });
  return { server, lines };
}

describe('what one client can make the server log is bounded', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('20,000 bad frames from one socket, each answered, write tens of lines, then one summary', async () => {
    const started = await verboseServer();
    server = started.server;
    const c = await server.client();
    const before = started.lines.length;
    const TOTAL = 20_000;
    const BATCH = 200;
    for (let sent = 0; sent < TOTAL; sent += BATCH) {
      const from = c.frames.length;
      for (let i = 0; i < BATCH; i++) c.send(BAD_FRAMES[(sent + i) % BAD_FRAMES.length]);
      for (let i = 0; i < 4; i++) c.ws.send(Buffer.from([1, 2, 3])); // binary: refused too
      await c.waitFor('error', () => c.frames.length - from >= BATCH + 4, 10_000, from);
    }
    const errors = c.frames.filter((f) => f.type === 'error');
    expect(errors.length).toBe(TOTAL + (TOTAL / BATCH) * 4);
    expect(new Set(errors.map((f) => String(f.code)))).toEqual(new Set(['bad_request', 'invalid_chat_id', 'too_long']));
    const during = started.lines.length - before;
    expect(during).toBeLessThan(50);

    c.close();
    await c.waitForClose(10_000);
    await sleep(100);
    const summary = started.lines.filter((l) => l.msg === 'log lines suppressed for this socket');
    expect(summary).toHaveLength(1);
    const suppressed = Object.values(summary[0]!.suppressed as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(suppressed).toBeGreaterThan(TOTAL - 50);
  });

  it('a flood of 20,000 frames at once closes the socket with 1013 and writes tens of lines', async () => {
    const started = await verboseServer();
    server = started.server;
    const c = await server.client();
    const before = started.lines.length;
    for (let i = 0; i < 20_000; i++) c.send(BAD_FRAMES[i % BAD_FRAMES.length]);
    await c.waitForClose(10_000);
    expect(c.closeCode).toBe(1013);
    await sleep(200);
    expect(started.lines.length - before).toBeLessThan(50);
  });
});
