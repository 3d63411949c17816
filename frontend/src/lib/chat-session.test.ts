import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeNetwork, fakeSockets } from '../test/fake-websocket';
import { ChatSession } from './chat-session';
import { ChatSocket } from './chat-socket';

const CHAT = 'chat-0123456789abcdef';

function setup() {
  const sockets = fakeSockets();
  const socket = new ChatSocket({ url: 'ws://t', createWebSocket: sockets.create, network: fakeNetwork(true), random: () => 0 });
  const session = new ChatSession({ socket, chatId: CHAT, stallRejoinMs: 12_000, newChatId: () => 'second-chat-00000000' });
  session.start();
  const ws = sockets.last();
  ws.handshake();
  const joins = () => ws.frames().filter((f) => f.type === 'join').length;
  return { session, ws, sockets, joins };
}

describe('ChatSession', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a gap in the deltas asks for a fresh history with one join', () => {
    const { ws, joins, session } = setup();
    ws.receive({ type: 'history', chatId: CHAT, messages: [], turn: { turnId: 't1', replyTo: 'u1', replaces: null, text: 'a', seq: 1 }, truncated: false });
    expect(joins()).toBe(1);
    ws.receive({ type: 'delta', chatId: CHAT, turnId: 't1', seq: 3, text: 'c' });
    ws.receive({ type: 'delta', chatId: CHAT, turnId: 't1', seq: 4, text: 'd' });
    expect(joins()).toBe(2);
    ws.receive({ type: 'history', chatId: CHAT, messages: [], turn: { turnId: 't1', replyTo: 'u1', replaces: null, text: 'abcd', seq: 4 }, truncated: false });
    expect(session.store.getState().turn?.text).toBe('abcd');
    expect(session.store.getState().resync).toBe(false);
  });

  it('an answer that stops moving is looked at again with a join (the server repairs orphans on join)', () => {
    const { ws, joins } = setup();
    ws.receive({ type: 'history', chatId: CHAT, messages: [], turn: { turnId: 't1', replyTo: 'u1', replaces: null, text: 'a', seq: 1 }, truncated: false });
    // Moving: no extra join.
    for (let seq = 2; seq < 10; seq++) {
      vi.advanceTimersByTime(5_000);
      ws.receive({ type: 'delta', chatId: CHAT, turnId: 't1', seq, text: 'x' });
    }
    expect(joins()).toBe(1);
    // Stalled: one join after 12 s, then one per 12 s while it stays stalled.
    vi.advanceTimersByTime(12_000);
    expect(joins()).toBe(2);
    vi.advanceTimersByTime(6_000);
    expect(joins()).toBe(2);
    vi.advanceTimersByTime(6_000);
    expect(joins()).toBe(3);
    // Ended: no more.
    ws.receive({ type: 'done', chatId: CHAT, turnId: 't1', messageId: 'm1', reply: 'axxxxxxxx', finishReason: 'stop' });
    vi.advanceTimersByTime(60_000);
    expect(joins()).toBe(3);
  });

  it('new chat: leave, a new id, join; messages of the old chat no longer count', () => {
    const { ws, session } = setup();
    ws.receive({ type: 'history', chatId: CHAT, messages: [{ id: 'u1', role: 'user', text: 'x', createdAt: 1, status: 'complete' }], turn: null, truncated: false });
    session.newChat();
    expect(session.chatId).toBe('second-chat-00000000');
    expect(ws.frames().slice(-2)).toEqual([
      { type: 'leave', chatId: CHAT },
      { type: 'join', chatId: 'second-chat-00000000' },
    ]);
    expect(session.store.getState().messages).toEqual([]);
  });

  it('retry sends a refused message again only when no answer is on its way and retryAfterMs has passed', () => {
    const { session, ws } = setup();
    ws.receive({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    expect(session.send('q')).toBe('sent');
    const id = ws.frames().at(-1)!.clientMsgId as string;
    ws.receive({ type: 'error', code: 'rate_limited', message: 'x', retryable: true, chatId: CHAT, clientMsgId: id, retryAfterMs: 2000 });
    const sends = () => ws.frames().filter((f) => f.type === 'send').length;
    session.retry(id);
    expect(sends()).toBe(1); // too early
    vi.advanceTimersByTime(2000);
    ws.receive({ type: 'history', chatId: CHAT, messages: [{ id: 'u0', role: 'user', text: 'x', createdAt: 1, status: 'complete' }], turn: { turnId: 't0', replyTo: 'u0', replaces: null, text: '', seq: 0 }, truncated: false });
    session.retry(id);
    expect(sends()).toBe(1); // busy
    ws.receive({ type: 'done', chatId: CHAT, turnId: 't0', messageId: 'm0', reply: 'a', finishReason: 'stop' });
    session.retry(id);
    expect(sends()).toBe(2);
  });

  it('after store_unavailable (outcome unknown), retry sends the same frame with the same clientMsgId', () => {
    const { session, ws } = setup();
    ws.receive({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    expect(session.send('q')).toBe('sent');
    const first = ws.frames().at(-1)!;
    ws.receive({ type: 'error', code: 'store_unavailable', message: 'x', retryable: true, chatId: CHAT, clientMsgId: first.clientMsgId as string });
    session.retry(first.clientMsgId as string);
    const sends = ws.frames().filter((f) => f.type === 'send');
    expect(sends).toEqual([first, first]);
  });

  it('refuses to send what the server would refuse: empty, too long (code points), while busy', () => {
    const { session, ws } = setup();
    expect(session.send('   ')).toBe('empty');
    expect(session.send('가'.repeat(8001))).toBe('too_long');
    expect(session.send('😀'.repeat(8000))).toBe('sent'); // 8000 code points, 16000 UTF-16 units
    expect(session.send('다음')).toBe('busy');
    expect(ws.frames().filter((f) => f.type === 'send')).toHaveLength(1);
  });
});
