import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { messageText, TestClient } from '../src/ws-client.js';

describe('TestClient', () => {
  let wss: WebSocketServer;
  let url: string;
  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    // Echoes each frame's `reply` list back, one frame each; `close` closes with 4000.
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        const msg = JSON.parse(messageText(data)) as { reply?: unknown[]; close?: boolean };
        for (const f of msg.reply ?? []) ws.send(JSON.stringify(f));
        if (msg.close) ws.close(4000);
      }),
    );
  });
  afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  it('waits for frames by type and predicate, recorded or still to come', async () => {
    const c = await TestClient.connect(url);
    c.send({ reply: [{ type: 'a', n: 1 }, { type: 'b' }] });
    expect(await c.waitFor('b')).toEqual({ type: 'b' });
    expect(await c.waitFor('a')).toEqual({ type: 'a', n: 1 });
    const later = c.next('a', (f) => f.n === 2);
    c.send({ reply: [{ type: 'a', n: 1 }, { type: 'a', n: 2 }] });
    expect((await later).n).toBe(2);
    expect(c.frames.map((f) => f.type)).toEqual(['a', 'b', 'a', 'a']);
    c.close();
  });

  it('names what it waited for and what arrived when a wait times out', async () => {
    const c = await TestClient.connect(url);
    c.send({ reply: [{ type: 'error', code: 'busy' }] });
    await c.waitFor('error');
    await expect(c.waitFor('done', () => true, 50)).rejects.toThrow('waiting for a "done" frame; got: [error:busy]');
    c.close();
  });

  it('reports the close code', async () => {
    const c = await TestClient.connect(url);
    c.send({ close: true });
    expect(await c.waitForClose()).toBe(4000);
    expect(c.closeCode).toBe(4000);
  });
});
