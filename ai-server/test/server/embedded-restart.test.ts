import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGeminiStub, type GeminiStub } from '@ai-chat/testkit/gemini-stub';
import { startReplica, type ReplicaProcess } from '@ai-chat/testkit/replica';
import { newChatId, newMsgId } from '@ai-chat/testkit/replica-in-process';
import { TestClient } from '@ai-chat/testkit/ws-client';
import type { AckFrame, HistoryFrame } from '@ai-chat/protocol';

/**
 * The default with no Redis: `node dist/main.js` keeps chats in DATA_DIR across a clean
 * stop and a crash, and one DATA_DIR serves one process only.
 */
describe('embedded store across restarts (no REDIS_URL)', () => {
  let stub: GeminiStub;
  let dataDir: string;
  const running: ReplicaProcess[] = [];

  beforeAll(async () => {
    stub = await startGeminiStub();
    dataDir = mkdtempSync(join(tmpdir(), 'ai-server-data-'));
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.crash()));
    await (stub as GeminiStub | undefined)?.close(); // unset when beforeAll failed
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<ReplicaProcess> {
    // Empty REDIS_* win over a developer's .env, which dotenv would otherwise read.
    const env = { REDIS_URL: '', REDIS_CLUSTER_NODES: '', DATA_DIR: dataDir, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: stub.baseUrl };
    for (let attempt = 1; ; attempt++) {
      try {
        const p = await startReplica(env);
        running.push(p);
        return p;
      } catch (err) {
        // The free port was taken by another process before the server bound it: try another.
        if (attempt === 3 || !(err instanceof Error) || !err.message.includes('EADDRINUSE')) throw err;
      }
    }
  }

  async function client(p: ReplicaProcess): Promise<TestClient> {
    const c = await TestClient.connect(p.url);
    c.send({ type: 'hello', protocol: 1 });
    await c.waitFor('welcome');
    return c;
  }

  async function history(p: ReplicaProcess, chatId: string) {
    const c = await client(p);
    c.send({ type: 'join', chatId });
    return { c, h: (await c.waitFor('history', () => true, 8000)) as HistoryFrame };
  }

  it('says once that it is single-process and where the data is', async () => {
    const p = await start();
    try {
      const lines = p.output().split('\n').filter((l) => l.includes('REDIS_URL is not set'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(join(dataDir, 'chats.sqlite'));
      expect(lines[0]).toContain('one process');
    } finally {
      p.kill('SIGINT');
      expect(await p.exited).toBe(0);
    }
  });

  it('a clean stop (SIGINT) loses nothing: the question and its finished answer are there after a restart', async () => {
    stub.reset();
    const chatId = newChatId();
    const first = await start();
    const c = await client(first);
    c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'keep me' });
    await c.waitFor('ack');
    const done = await c.waitFor('done', () => true, 8000);
    expect(done.reply).toBe('echo: keep me');
    c.close();
    first.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = await start();
    try {
      const { c: c2, h } = await history(second, chatId);
      expect(h.messages.map((m: { role: string; text: string; status: string }) => [m.role, m.text, m.status])).toEqual([
        ['user', 'keep me', 'complete'],
        ['model', 'echo: keep me', 'complete'],
      ]);
      expect(h.turn).toBeNull();
      c2.close();
    } finally {
      second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('killed (SIGKILL) right after the ack: the message is there after a restart', async () => {
    stub.reset();
    const chatId = newChatId();
    const first = await start();
    const c = await client(first);
    const clientMsgId = newMsgId();
    c.send({ type: 'send', chatId, clientMsgId, text: 'survive a crash' });
    const ack = (await c.waitFor('ack')) as AckFrame;
    first.kill('SIGKILL');
    await first.exited;
    c.close();

    const second = await start();
    try {
      const { c: c2, h } = await history(second, chatId);
      expect(h.messages[0]).toMatchObject({ id: ack.messageId, role: 'user', text: 'survive a crash' });
      // Whether the answer was done before the kill or taken over on this join, it ends stored.
      const turn = h.turn as { turnId: string } | null;
      if (turn) await c2.waitFor('done', (f) => f.turnId === turn.turnId, 8000);
      // The idempotency record survived too: the same clientMsgId again is a duplicate.
      c2.send({ type: 'send', chatId, clientMsgId, text: 'survive a crash' });
      expect(await c2.waitFor('ack', (f) => f.clientMsgId === clientMsgId)).toMatchObject({ duplicate: true, messageId: ack.messageId });
      c2.close();
    } finally {
      second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('killed (SIGKILL) while the answer streams: the cut answer is taken over on join after a restart', async () => {
    stub.reset();
    stub.enqueue({ kind: 'hold', pieces: ['never finished '] });
    const chatId = newChatId();
    const first = await start();
    const c = await client(first);
    c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'cut me' });
    const ack = (await c.waitFor('ack')) as AckFrame;
    await c.waitFor('delta');
    first.kill('SIGKILL');
    await first.exited;
    c.close();

    const second = await start();
    try {
      const { c: c2, h } = await history(second, chatId);
      expect(h.messages).toEqual([expect.objectContaining({ id: ack.messageId, role: 'user', text: 'cut me' })]);
      // The cut turn has no lease after the crash: the join took it over under a new turnId.
      const turn = h.turn as { turnId: string; replyTo: string };
      expect(turn.replyTo).toBe(ack.messageId);
      const done = await c2.waitFor('done', (f) => f.turnId === turn.turnId, 8000);
      expect(done.reply).toBe('echo: cut me');
      c2.close();
    } finally {
      second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
    const third = await start();
    try {
      const { c: c3, h } = await history(third, chatId);
      expect(h.messages.map((m) => m.text)).toEqual(['cut me', 'echo: cut me']);
      expect(h.turn).toBeNull();
      c3.close();
    } finally {
      third.kill('SIGTERM');
      await third.exited;
    }
  });

  it('a second process on the same DATA_DIR fails at once, saying why', async () => {
    const first = await start();
    try {
      const err = await start().then(
        () => null,
        (e: unknown) => e as Error, // startReplica rejects with an Error
      );
      expect(err?.message).toMatch(/the process exited \(1\) first/);
      expect(err?.message).toContain('in use by another ai-server process');
      expect((await fetch(`${first.httpUrl}/healthz`)).ok).toBe(true);
    } finally {
      first.kill('SIGTERM');
      await first.exited;
    }
  });
});
