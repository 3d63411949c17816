import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeNetwork, fakeSockets } from '../test/fake-websocket';
import { ChatSocket, type ConnectionSnapshot } from './chat-socket';

const CHAT = 'chat-0123456789abcdef';

function setup(opts: { random?: () => number; online?: boolean } = {}) {
  const sockets = fakeSockets();
  const network = fakeNetwork(opts.online ?? true);
  const socket = new ChatSocket({
    url: 'ws://test/ws-chat',
    createWebSocket: sockets.create,
    network,
    random: opts.random ?? (() => 0),
    handshakeTimeoutMs: 5_000,
    ackTimeoutMs: 8_000,
  });
  const transitions: [string, string][] = [];
  socket.onStateChange((next: ConnectionSnapshot, prev: ConnectionSnapshot) => {
    if (next.state !== prev.state) transitions.push([prev.state, next.state]);
  });
  return { sockets, network, socket, transitions };
}

describe('ChatSocket', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends hello first, and join only after welcome; open means welcomed', () => {
    const { sockets, socket } = setup();
    socket.join(CHAT);
    socket.start();
    expect(socket.getSnapshot().state).toBe('connecting');
    const ws = sockets.last();
    expect(ws.url).toBe('ws://test/ws-chat');
    ws.open();
    expect(ws.frames()).toEqual([{ type: 'hello', protocol: 1 }]);
    expect(socket.getSnapshot().state).toBe('connecting');
    ws.receive({ type: 'welcome', protocol: 1, serverId: 's', model: 'demo', limits: { maxMessageChars: 8000, maxFrameBytes: 100_096 } });
    expect(socket.getSnapshot().state).toBe('open');
    expect(socket.getSnapshot().welcome?.limits.maxMessageChars).toBe(8000);
    expect(ws.frames().slice(1)).toEqual([{ type: 'join', chatId: CHAT }]);
  });

  it('hello and join again on every reconnect', () => {
    const { sockets, socket, transitions } = setup();
    socket.join(CHAT);
    socket.start();
    sockets.last().handshake();
    sockets.last().drop(1006);
    expect(socket.getSnapshot().state).toBe('reconnecting');
    vi.advanceTimersByTime(500);
    expect(sockets.all).toHaveLength(2);
    const ws2 = sockets.last();
    ws2.handshake();
    expect(ws2.types()).toEqual(['hello', 'join']);
    expect(transitions).toEqual([
      ['connecting', 'open'],
      ['open', 'reconnecting'],
      ['reconnecting', 'open'],
    ]);
  });

  it('resends an unacked send after a reconnect with the same clientMsgId, and not an acked one', () => {
    const { sockets, socket } = setup();
    socket.join(CHAT);
    socket.start();
    const ws1 = sockets.last();
    ws1.handshake();
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-aaaaaaaa', text: '첫 번째' });
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-bbbbbbbb', text: '두 번째' });
    ws1.receive({ type: 'ack', chatId: CHAT, clientMsgId: 'msg-aaaaaaaa', messageId: 'm1', duplicate: false });
    expect(socket.pending()).toEqual(['msg-bbbbbbbb']);
    ws1.drop(1006);
    vi.advanceTimersByTime(1000);
    const ws2 = sockets.last();
    ws2.handshake();
    expect(ws2.frames()).toEqual([
      { type: 'hello', protocol: 1 },
      { type: 'join', chatId: CHAT },
      { type: 'send', chatId: CHAT, clientMsgId: 'msg-bbbbbbbb', text: '두 번째' },
    ]);
    ws2.receive({ type: 'ack', chatId: CHAT, clientMsgId: 'msg-bbbbbbbb', messageId: 'm2', duplicate: true });
    expect(socket.pending()).toEqual([]);
  });

  it('queues a send made while disconnected and sends it once connected', () => {
    const { sockets, socket } = setup();
    socket.join(CHAT);
    socket.start();
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-cccccccc', text: '오프라인에서' });
    const ws = sockets.last();
    ws.handshake();
    expect(ws.types()).toEqual(['hello', 'join', 'send']);
  });

  it('does not resend a message the server refused (the page offers retry)', () => {
    const { sockets, socket } = setup();
    socket.join(CHAT);
    socket.start();
    sockets.last().handshake();
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-dddddddd', text: 'x' });
    sockets.last().receive({ type: 'error', code: 'busy', message: 'busy', retryable: true, chatId: CHAT, clientMsgId: 'msg-dddddddd' });
    expect(socket.pending()).toEqual([]);
    // Retry is the same frame again.
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-dddddddd', text: 'x' });
    expect(sockets.last().types().filter((t) => t === 'send')).toHaveLength(2);
    expect(socket.pending()).toEqual(['msg-dddddddd']);
  });

  it('backs off with full jitter between 0.5 s and 20 s, and resets once a connection stayed open 10 s', () => {
    // random() = 1: the top of each window, to see the exponential cap.
    const { sockets, socket } = setup({ random: () => 0.999999 });
    socket.start();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      sockets.last().drop(1006);
      const snap = socket.getSnapshot();
      expect(snap.state).toBe('reconnecting');
      delays.push(snap.retryAt! - Date.now());
      vi.advanceTimersByTime(snap.retryAt! - Date.now());
    }
    expect(delays).toEqual([1000, 1500, 2500, 4500, 8500, 16500, 20000, 20000, 20000]);
    sockets.last().handshake();
    vi.advanceTimersByTime(10_000);
    expect(socket.getSnapshot().attempt).toBe(0);
    sockets.last().drop(1006);
    expect(socket.getSnapshot().retryAt! - Date.now()).toBe(1000);
  });

  it('a connection that fails soon after its welcome does not reset the backoff (no reconnect storm)', () => {
    const { sockets, socket } = setup({ random: () => 0.999999 });
    socket.join(CHAT);
    socket.start();
    const delays: number[] = [];
    for (const code of [1011, 1013, 1011, 1006, 1011, 1011]) {
      sockets.last().handshake();
      vi.advanceTimersByTime(2_000); // open, but not for long
      sockets.last().drop(code);
      const wait = socket.getSnapshot().retryAt! - Date.now();
      delays.push(wait);
      vi.advanceTimersByTime(wait);
    }
    expect(delays).toEqual([1000, 2500, 2500, 4500, 8500, 16500]);
    expect(sockets.all).toHaveLength(7);
  });

  it('1012 comes back in the first window once per stable connection; 1013 waits at least the third window', () => {
    const { sockets, socket } = setup({ random: () => 0.999999 });
    socket.start();
    sockets.last().handshake();
    vi.advanceTimersByTime(10_000);
    sockets.last().drop(1013); // stable before: attempt 0, yet not the first window
    expect(socket.getSnapshot().retryAt! - Date.now()).toBe(2500);
    vi.advanceTimersByTime(2500);
    sockets.last().handshake();
    vi.advanceTimersByTime(10_000);
    sockets.last().drop(1012);
    expect(socket.getSnapshot().retryAt! - Date.now()).toBe(1000);
    vi.advanceTimersByTime(1000);
    sockets.last().handshake();
    sockets.last().drop(1012); // a second restart before the connection proved itself: backoff
    expect(socket.getSnapshot().retryAt! - Date.now()).toBe(1500);
  });

  it('a send closed with 1009 fails as too_long and is never sent again', () => {
    const { sockets, socket } = setup();
    const errors: unknown[] = [];
    socket.onFrame((f) => {
      if (f.type === 'error') errors.push(f);
    });
    socket.join(CHAT);
    socket.start();
    sockets.last().handshake('m', 8000);
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-small000', text: 'hi' });
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-big00000', text: '가'.repeat(5000) });
    sockets.last().drop(1009);
    expect(errors).toEqual([expect.objectContaining({ code: 'too_long', retryable: false, chatId: CHAT, clientMsgId: 'msg-big00000' })]);
    expect(socket.pending()).toEqual(['msg-small000']);
    vi.advanceTimersByTime(1000);
    sockets.last().handshake('m', 8000);
    expect(sockets.last().types()).toEqual(['hello', 'join', 'send']);
    expect(sockets.last().frames()[2]).toMatchObject({ clientMsgId: 'msg-small000' });
  });

  it('checks queued messages against welcome.limits (code points, frame bytes) before sending them', () => {
    const { sockets, socket } = setup();
    const errors: unknown[] = [];
    socket.onFrame((f) => {
      if (f.type === 'error') errors.push(f);
    });
    socket.join(CHAT);
    socket.start();
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-long0000', text: '가'.repeat(1001) });
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-fits0000', text: '😀'.repeat(1000) });
    sockets.last().handshake('m', 1000);
    expect(sockets.last().types()).toEqual(['hello', 'join', 'send']);
    expect(sockets.last().frames()[2]).toMatchObject({ clientMsgId: 'msg-fits0000' });
    expect(errors).toEqual([expect.objectContaining({ code: 'too_long', clientMsgId: 'msg-long0000' })]);
    expect(socket.pending()).toEqual(['msg-fits0000']);
  });

  it('does not send a frame over welcome.limits.maxFrameBytes', () => {
    const { sockets, socket } = setup();
    const errors: unknown[] = [];
    socket.onFrame((f) => {
      if (f.type === 'error') errors.push(f);
    });
    socket.join(CHAT);
    socket.start();
    const ws = sockets.last();
    ws.open();
    ws.receive({ type: 'welcome', protocol: 1, serverId: 's', model: 'm', limits: { maxMessageChars: 1000, maxFrameBytes: 300 } });
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-bytes000', text: '가'.repeat(100) }); // 300 bytes of text alone
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-short000', text: '가'.repeat(10) });
    expect(ws.frames().filter((f) => f.type === 'send').map((f) => f.clientMsgId)).toEqual(['msg-short000']);
    expect(errors).toEqual([expect.objectContaining({ code: 'too_long', clientMsgId: 'msg-bytes000' })]);
  });

  it('draws each delay at random within its window', () => {
    const values = [0, 0.5, 0.25];
    const { sockets, socket } = setup({ random: () => values.shift() ?? 0 });
    socket.start();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      sockets.last().drop(1006);
      delays.push(socket.getSnapshot().retryAt! - Date.now());
      vi.advanceTimersByTime(delays[i]!);
    }
    // windows: [500, 1000], [500, 1500], [500, 2500]
    expect(delays).toEqual([500, 1000, 1000]);
  });

  it('reconnects soon after a 1012 service restart, whatever the attempt count', () => {
    const { sockets, socket } = setup({ random: () => 0.999999 });
    socket.start();
    for (let i = 0; i < 5; i++) {
      sockets.last().drop(1006);
      vi.advanceTimersByTime(socket.getSnapshot().retryAt! - Date.now());
    }
    sockets.last().drop(1012);
    expect(socket.getSnapshot().retryAt! - Date.now()).toBe(1000);
  });

  it('gives up on a handshake that does not complete, and on a send never acked', () => {
    const { sockets, socket } = setup();
    socket.join(CHAT);
    socket.start();
    sockets.last().open(); // no welcome
    vi.advanceTimersByTime(5_000);
    expect(sockets.last().closedWith).toBe(4000);
    expect(socket.getSnapshot().state).toBe('reconnecting');
    vi.advanceTimersByTime(500);
    const ws2 = sockets.last();
    ws2.handshake();
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-eeeeeeee', text: 'hi' });
    vi.advanceTimersByTime(8_000);
    expect(ws2.closedWith).toBe(4000);
    vi.advanceTimersByTime(500);
    const ws3 = sockets.last();
    ws3.handshake();
    expect(ws3.types()).toEqual(['hello', 'join', 'send']);
  });

  it('is offline while the browser is, and connects at once when it is back', () => {
    const { sockets, socket, network } = setup({ online: false });
    socket.start();
    expect(socket.getSnapshot().state).toBe('offline');
    expect(sockets.all).toHaveLength(0);
    network.set(true);
    expect(sockets.all).toHaveLength(1);
    sockets.last().handshake();
    expect(socket.getSnapshot().state).toBe('open');
    // Going offline while connected keeps the socket (localhost still works); a drop then is offline.
    network.set(false);
    expect(socket.getSnapshot().state).toBe('open');
    sockets.last().drop(1006);
    expect(socket.getSnapshot().state).toBe('offline');
  });

  it('queues stop while disconnected and sends it after join', () => {
    const { sockets, socket } = setup();
    socket.join(CHAT);
    socket.start();
    socket.stop(CHAT);
    sockets.last().handshake();
    expect(sockets.last().types()).toEqual(['hello', 'join', 'stop']);
  });

  it('leave drops the chat: no join on reconnect, its unacked sends forgotten', () => {
    const { sockets, socket } = setup();
    socket.join(CHAT);
    socket.start();
    sockets.last().handshake();
    socket.send({ type: 'send', chatId: CHAT, clientMsgId: 'msg-ffffffff', text: 'x' });
    socket.leave(CHAT);
    expect(sockets.last().types()).toEqual(['hello', 'join', 'send', 'leave']);
    sockets.last().drop(1001);
    vi.advanceTimersByTime(1000);
    sockets.last().handshake();
    expect(sockets.last().types()).toEqual(['hello']);
  });

  it('reconnectNow skips the wait; close stops for good', () => {
    const { sockets, socket } = setup({ random: () => 0.999999 });
    socket.start();
    sockets.last().drop(1006);
    expect(sockets.all).toHaveLength(1);
    socket.reconnectNow();
    expect(sockets.all).toHaveLength(2);
    socket.close();
    expect(socket.getSnapshot().state).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(sockets.all).toHaveLength(2);
  });

  it('ignores frames it cannot parse and passes the others on', () => {
    const { sockets, socket } = setup();
    const seen: string[] = [];
    socket.onFrame((f) => seen.push(f.type));
    socket.start();
    const ws = sockets.last();
    ws.handshake();
    ws.onmessage?.({ data: 'not json' });
    ws.onmessage?.({ data: JSON.stringify({ type: 'future-frame' }) });
    ws.receive({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    expect(seen).toEqual(['welcome', 'history']);
  });
});
