import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatSession } from '../../lib/chat-session';
import { ChatSocket } from '../../lib/chat-socket';
import type { ServerFrame } from '@ai-chat/protocol';
import { renderStats } from '../../lib/render-stats';
import { fakeNetwork, fakeSockets, type FakeWebSocket } from '../../test/fake-websocket';
import AIChatPage from './AIChatPage';

const CHAT = 'chat-0123456789abcdef';
let counter = 0;

async function setup(model = 'gemini-2.5-flash', { welcome = true }: { welcome?: boolean } = {}) {
  const sockets = fakeSockets();
  const network = fakeNetwork(true);
  const socket = new ChatSocket({ url: 'ws://test/ws-chat', createWebSocket: sockets.create, network, random: () => 0 });
  const session = new ChatSession({ socket, chatId: CHAT, newChatId: () => `new-chat-${String(++counter).padStart(12, '0')}` });
  // The page connects from a microtask (see AIChatPage): let it run.
  await act(async () => {
    render(<AIChatPage session={session} />);
  });
  const ws = sockets.last();
  if (welcome) act(() => ws.handshake(model));
  const server = (frame: ServerFrame) => act(() => ws.receive(frame));
  const input = screen.getByTestId<HTMLTextAreaElement>('chat-input');
  const type = (text: string) => {
    fireEvent.change(input, { target: { value: text } });
    fireEvent.keyDown(input, { key: 'Enter', code: 'Enter', keyCode: 13 });
  };
  return { ws, sockets, session, server, input, type };
}

function lastSent(ws: FakeWebSocket, type: string): Record<string, unknown> {
  const f = ws.frames().filter((x) => x.type === type).at(-1);
  if (!f) throw new Error(`no ${type} frame sent; sent: ${ws.types().join(', ')}`);
  return f;
}

const bubbles = () => screen.queryAllByTestId('message').map((el) => [el.dataset.role, el.dataset.status, el.textContent.trim()]);

describe('AIChatPage', () => {
  afterEach(cleanup);

  it('joins its chat and shows the stored conversation (model answers as Markdown)', async () => {
    const { ws, server } = await setup();
    expect(ws.frames()).toEqual([
      { type: 'hello', protocol: 1 },
      { type: 'join', chatId: CHAT },
    ]);
    expect(screen.getByTestId('connection-status').dataset.state).toBe('open');
    expect(screen.getByText('무엇이든 물어보세요')).toBeTruthy();
    server({
      type: 'history',
      chatId: CHAT,
      truncated: false,
      turn: null,
      messages: [
        { id: 'u1', role: 'user', text: '표를 보여줘', createdAt: 1, status: 'complete' },
        { id: 'm1', role: 'model', text: '| 이름 | 값 |\n|---|---|\n| a | 1 |\n\n<script>alert(1)</script>', createdAt: 2, status: 'complete' },
      ],
    });
    expect(screen.getAllByTestId('message').map((el) => el.dataset.role)).toEqual(['user', 'model']);
    await screen.findByRole('table');
    // Raw HTML is text, never an element.
    expect(document.querySelector('.msg script')).toBeNull();
    expect(screen.getAllByTestId('message')[1]!.textContent).toContain('<script>alert(1)</script>');
  });

  it('sends, shows the streamed answer, then the stored one; stop while streaming', async () => {
    const { ws, server, type, input } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    type('안녕하세요');
    const send = lastSent(ws, 'send');
    expect(send).toMatchObject({ chatId: CHAT, text: '안녕하세요' });
    expect(bubbles()).toEqual([['user', 'pending', expect.stringContaining('안녕하세요')]]);
    expect(input.value).toBe('');
    server({ type: 'ack', chatId: CHAT, clientMsgId: send.clientMsgId as string, messageId: 'u1', duplicate: false });
    expect(bubbles()).toEqual([['user', 'complete', '안녕하세요']]);
    expect(screen.getByTestId('stop-button')).toBeTruthy();

    server({ type: 'start', chatId: CHAT, turnId: 't1', replyTo: 'u1', replaces: null });
    server({ type: 'delta', chatId: CHAT, turnId: 't1', seq: 1, text: '반갑습니다. ' });
    server({ type: 'delta', chatId: CHAT, turnId: 't1', seq: 2, text: '무엇을 도와드릴까요?' });
    await waitFor(() => expect(bubbles()).toEqual([['user', 'complete', '안녕하세요'], ['model', 'streaming', '반갑습니다. 무엇을 도와드릴까요?']]));

    fireEvent.click(screen.getByTestId('stop-button'));
    expect(lastSent(ws, 'stop')).toEqual({ type: 'stop', chatId: CHAT });
    server({ type: 'done', chatId: CHAT, turnId: 't1', messageId: 'm1', reply: '반갑습니다. 무엇을 도와드릴까요?', finishReason: 'stopped' });
    expect(bubbles()).toEqual([
      ['user', 'complete', '안녕하세요'],
      ['model', 'stopped', expect.stringContaining('답변을 중지했습니다.')],
    ]);
    expect(screen.queryByTestId('stop-button')).toBeNull();
    expect(screen.getByTestId('answer-live-region').textContent).toContain('무엇을 도와드릴까요?');
  });

  it('a delta re-renders only the answer being written, not the stored bubbles or the list', async () => {
    const { server } = await setup();
    const messages = Array.from({ length: 40 }, (_, i) => ({
      id: `x${i}`,
      role: i % 2 ? ('model' as const) : ('user' as const),
      text: `메시지 ${i}`,
      createdAt: i,
      status: 'complete' as const,
    }));
    server({ type: 'history', chatId: CHAT, messages, turn: { turnId: 't1', replyTo: 'x39', replaces: null, text: '시작', seq: 1 }, truncated: false });
    await waitFor(() => expect(screen.getAllByTestId('message')).toHaveLength(41));
    const before = { ...renderStats };
    for (let seq = 2; seq <= 6; seq++) server({ type: 'delta', chatId: CHAT, turnId: 't1', seq, text: ` ${seq}` });
    await waitFor(() => expect(screen.getAllByTestId('message').at(-1)!.textContent).toContain('시작 2 3 4 5 6'));
    expect(renderStats.messages - before.messages).toBe(0);
    expect(renderStats.lists - before.lists).toBe(0);
    expect(renderStats.streaming - before.streaming).toBeGreaterThan(0);
  });

  it('a failed answer shows its error in Korean and regenerate; retry is regenerate with a new id', async () => {
    const { ws, server } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [{ id: 'u1', role: 'user', text: 'q', createdAt: 1, status: 'complete' }], turn: null, truncated: false });
    server({ type: 'start', chatId: CHAT, turnId: 't1', replyTo: 'u1', replaces: null });
    server({ type: 'error', code: 'llm_unavailable', message: 'provider down', retryable: true, chatId: CHAT, turnId: 't1', messageId: 'm1' });
    const failed = screen.getAllByTestId('message')[1]!;
    expect(failed.dataset.status).toBe('error');
    expect(within(failed).getByTestId('message-status').textContent).toBe('AI 모델에 연결하지 못했습니다. 다시 시도해 주세요.');
    fireEvent.click(within(failed).getByTestId('regenerate-button'));
    const regen = lastSent(ws, 'regenerate');
    expect(regen.chatId).toBe(CHAT);
    expect(String(regen.clientMsgId)).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  });

  it('a message refused before its ack offers retry: the same send, the same clientMsgId', async () => {
    const { ws, server, type } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    type('빨리 보내기');
    const first = lastSent(ws, 'send');
    server({ type: 'error', code: 'rate_limited', message: 'slow down', retryable: true, chatId: CHAT, clientMsgId: first.clientMsgId as string, retryAfterMs: 400 });
    const bubble = screen.getAllByTestId('message')[0]!;
    expect(bubble.dataset.status).toBe('failed');
    expect(bubble.textContent).toContain('메시지를 너무 자주 보냈습니다');
    // Not before the server's retryAfterMs.
    const retry = within(bubble).getByTestId<HTMLButtonElement>('retry-button');
    expect(retry.disabled).toBe(true);
    await waitFor(() => expect(retry.disabled).toBe(false), { timeout: 2000 });
    fireEvent.click(retry);
    const again = lastSent(ws, 'send');
    expect(again).toEqual(first);
    expect(ws.frames().filter((f) => f.type === 'send')).toHaveLength(2);
  });

  it('a non-retryable refusal has no retry button', async () => {
    const { ws, server, type } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    type('x');
    const f = lastSent(ws, 'send');
    server({ type: 'error', code: 'invalid_chat_id', message: 'bad', retryable: false, chatId: CHAT, clientMsgId: f.clientMsgId as string });
    expect(screen.queryByTestId('retry-button')).toBeNull();
    expect(screen.getAllByTestId('message')[0]!.textContent).toContain('대화 식별자가 올바르지 않습니다');
  });

  it('reconnects by itself and resends the unacked message; shows reconnecting meanwhile', async () => {
    const { ws, sockets, server, type } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    type('끊겨도 보내져야 해요');
    const send = lastSent(ws, 'send');
    act(() => ws.drop(1012));
    expect(screen.getByTestId('connection-status').dataset.state).toBe('reconnecting');
    expect(screen.getByTestId('connection-status').textContent).toMatch(/재연결 중/);
    // The input stays usable while reconnecting (disabled only offline).
    expect(screen.getByTestId<HTMLTextAreaElement>('chat-input').disabled).toBe(false);
    // random() = 0: the first retry comes after 0.5 s.
    await waitFor(() => expect(sockets.all).toHaveLength(2), { timeout: 3000 });
    const ws2 = sockets.last();
    act(() => ws2.handshake());
    expect(ws2.frames()).toEqual([{ type: 'hello', protocol: 1 }, { type: 'join', chatId: CHAT }, send]);
    expect(screen.getByTestId('connection-status').dataset.state).toBe('open');
  });

  it('a message over the server’s limit, typed before the welcome, fails as too long and is never sent', async () => {
    // The page loads while the server restarts: the default 8000 lets 5000 characters through.
    const { ws, type, input } = await setup('m', { welcome: false });
    type('가'.repeat(5000));
    expect(bubbles()).toEqual([['user', 'pending', expect.stringContaining('보내는 중')]]);
    act(() => ws.handshake('m', 1000)); // MAX_MESSAGE_CHARS=1000
    expect(ws.types()).toEqual(['hello', 'join']);
    const bubble = screen.getAllByTestId('message')[0]!;
    expect(bubble.dataset.status).toBe('failed');
    expect(within(bubble).getByTestId('message-status').textContent).toBe('메시지가 비어 있거나 너무 깁니다.');
    expect(within(bubble).queryByTestId('retry-button')).toBeNull();
    // The field is free again.
    type('짧게');
    expect(lastSent(ws, 'send')).toMatchObject({ text: '짧게' });
    expect(input.value).toBe('');
  });

  it('a send the server closes with 1009 (frame too big) fails as too long and is not sent again on the next connection', async () => {
    const { ws, sockets, server, type, session } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    type('가'.repeat(5000));
    expect(ws.types()).toEqual(['hello', 'join', 'send']);
    act(() => ws.drop(1009));
    expect(bubbles()).toEqual([['user', 'failed', expect.stringContaining('메시지가 비어 있거나 너무 깁니다.')]]);
    await waitFor(() => expect(sockets.all).toHaveLength(2), { timeout: 3000 });
    const ws2 = sockets.last();
    act(() => ws2.handshake());
    expect(ws2.types()).toEqual(['hello', 'join']);
    expect(session.socket.pending()).toEqual([]);
    expect(screen.getByTestId<HTMLTextAreaElement>('chat-input').disabled).toBe(false);
    type('다음');
    expect(lastSent(ws2, 'send')).toMatchObject({ text: '다음' });
  });

  it('an answer to a question sent from another tab asks for the history, so the question shows', async () => {
    const { ws, server } = await setup();
    const joins = () => ws.frames().filter((f) => f.type === 'join').length;
    const stored = [
      { id: 'u1', role: 'user' as const, text: '첫 질문', createdAt: 1, status: 'complete' as const },
      { id: 'm1', role: 'model' as const, text: '첫 답', createdAt: 2, status: 'complete' as const },
    ];
    server({ type: 'history', chatId: CHAT, messages: stored, turn: null, truncated: false });
    expect(joins()).toBe(1);
    server({ type: 'start', chatId: CHAT, turnId: 't2', replyTo: 'u2', replaces: null });
    expect(joins()).toBe(2);
    server({
      type: 'history',
      chatId: CHAT,
      messages: [...stored, { id: 'u2', role: 'user', text: '다른 탭의 질문', createdAt: 3, status: 'complete' }],
      turn: { turnId: 't2', replyTo: 'u2', replaces: null, text: '', seq: 0 },
      truncated: false,
    });
    server({ type: 'delta', chatId: CHAT, turnId: 't2', seq: 1, text: '다른 탭의 답' });
    await waitFor(() =>
      expect(bubbles()).toEqual([
        ['user', 'complete', '첫 질문'],
        ['model', 'complete', expect.stringContaining('첫 답')],
        ['user', 'complete', '다른 탭의 질문'],
        ['model', 'streaming', '다른 탭의 답'],
      ]),
    );
  });

  it('an error about the chat (a failed stop or join) offers to join again, not to regenerate, and the answer is still awaited', async () => {
    const { ws, server, type } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    type('질문');
    const send = lastSent(ws, 'send');
    server({ type: 'ack', chatId: CHAT, clientMsgId: send.clientMsgId as string, messageId: 'u1', duplicate: false });
    fireEvent.click(screen.getByTestId('stop-button'));
    server({ type: 'error', code: 'store_unavailable', message: 'redis down', retryable: true, chatId: CHAT });
    const notice = screen.getByTestId('chat-error');
    expect(notice.textContent).toContain('대화 저장소에 연결할 수 없습니다');
    const retry = within(notice).getByTestId('retry-button');
    expect(retry.textContent).toBe('다시 시도');
    // Still waiting for the answer: the input stays locked (stop shown), no regenerate offered.
    expect(screen.getByTestId('stop-button')).toBeTruthy();
    const joinsBefore = ws.frames().filter((f) => f.type === 'join').length;
    fireEvent.click(retry);
    expect(ws.frames().filter((f) => f.type === 'join').length).toBe(joinsBefore + 1);
    expect(ws.types()).not.toContain('regenerate');
  });

  it('a refused message is not retried out of order: no retry while an answer is on its way, and a newer send makes it "not sent"', async () => {
    const { ws, server, type } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    type('first');
    const first = lastSent(ws, 'send');
    server({ type: 'error', code: 'busy', message: 'busy', retryable: true, chatId: CHAT, clientMsgId: first.clientMsgId as string });
    // Another tab's answer streams: retry is disabled meanwhile.
    server({
      type: 'history',
      chatId: CHAT,
      messages: [{ id: 'u0', role: 'user', text: 'other tab', createdAt: 1, status: 'complete' }],
      turn: { turnId: 't0', replyTo: 'u0', replaces: null, text: '...', seq: 1 },
      truncated: false,
    });
    const failedFirst = () => screen.getAllByTestId('message').find((el) => el.dataset.status === 'failed')!;
    expect(within(failedFirst()).getByTestId<HTMLButtonElement>('retry-button').disabled).toBe(true);
    server({ type: 'done', chatId: CHAT, turnId: 't0', messageId: 'm0', reply: 'done', finishReason: 'stop' });
    expect(within(failedFirst()).getByTestId<HTMLButtonElement>('retry-button').disabled).toBe(false);
    // The user sends something else instead: "first" can no longer be sent after it.
    type('second');
    const second = lastSent(ws, 'send');
    server({ type: 'ack', chatId: CHAT, clientMsgId: second.clientMsgId as string, messageId: 'u2', duplicate: false });
    expect(within(failedFirst()).queryByTestId('retry-button')).toBeNull();
    expect(within(failedFirst()).getByTestId('message-status').textContent).toBe('보내지 못한 메시지입니다.');
    expect(ws.frames().filter((f) => f.type === 'send').map((f) => f.text)).toEqual(['first', 'second']);
  });

  it('after a reconnect, a message the history already holds does not show twice while its resend is acked', async () => {
    const { ws, sockets, server, type } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [], turn: null, truncated: false });
    type('한 번만');
    const send = lastSent(ws, 'send');
    // Stored by the server, but the connection dropped before the ack.
    act(() => ws.drop(1006));
    await waitFor(() => expect(sockets.all).toHaveLength(2), { timeout: 3000 });
    const ws2 = sockets.last();
    act(() => ws2.handshake());
    expect(ws2.frames().at(-1)).toEqual(send);
    act(() =>
      ws2.receive({
        type: 'history',
        chatId: CHAT,
        messages: [{ id: 'u1', role: 'user', text: '한 번만', createdAt: 1, status: 'complete' }],
        turn: { turnId: 't1', replyTo: 'u1', replaces: null, text: '', seq: 0 },
        truncated: false,
      }),
    );
    expect(bubbles()).toEqual([
      ['user', 'complete', '한 번만'],
      ['model', 'streaming', ''],
    ]);
    act(() => ws2.receive({ type: 'ack', chatId: CHAT, clientMsgId: send.clientMsgId as string, messageId: 'u1', duplicate: true }));
    expect(bubbles()).toEqual([
      ['user', 'complete', '한 번만'],
      ['model', 'streaming', ''],
    ]);
  });

  it('new chat leaves the old chat and joins a new id, with an empty conversation', async () => {
    const { ws, server, session } = await setup();
    server({ type: 'history', chatId: CHAT, messages: [{ id: 'u1', role: 'user', text: 'old', createdAt: 1, status: 'complete' }], turn: null, truncated: false });
    fireEvent.click(screen.getByTestId('new-chat-button'));
    expect(ws.frames().slice(-2)).toEqual([
      { type: 'leave', chatId: CHAT },
      { type: 'join', chatId: session.chatId },
    ]);
    expect(session.chatId).not.toBe(CHAT);
    expect(screen.queryAllByTestId('message')).toHaveLength(0);
    // A late frame of the old chat changes nothing.
    server({ type: 'start', chatId: CHAT, turnId: 't9', replyTo: 'u1', replaces: null });
    expect(screen.queryAllByTestId('message')).toHaveLength(0);
    expect(document.activeElement).toBe(screen.getByTestId('chat-input'));
  });

  it('shows the demo banner when the server runs the demo model', async () => {
    await setup('demo');
    expect(screen.getByTestId('demo-banner').textContent).toContain('데모');
  });

  it('uses welcome.limits.maxMessageChars for the counter', async () => {
    const sockets = fakeSockets();
    const socket = new ChatSocket({ url: 'ws://t', createWebSocket: sockets.create, network: fakeNetwork(true) });
    await act(async () => {
      render(<AIChatPage session={new ChatSession({ socket, chatId: CHAT })} />);
    });
    act(() => sockets.last().handshake('m', 20));
    const input = screen.getByTestId('chat-input');
    fireEvent.change(input, { target: { value: '가'.repeat(21) } });
    expect(screen.getByTestId('char-counter').textContent).toContain('21 / 20');
  });
});
