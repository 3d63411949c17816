import { describe, expect, it } from 'vitest';
import { canRetry, chatReducer, initialChatState, isBusy, type ChatAction, type ChatState } from './chat-state';
import type { Message as WireMessage, Turn as WireTurn } from '@ai-chat/protocol';
import type { ChatFrame } from './protocol';

const CHAT = 'chat-0123456789abcdef';

function apply(state: ChatState, ...frames: ChatFrame[]): ChatState {
  return frames.reduce((s, frame) => chatReducer(s, { type: 'frame', frame, at: 1000 }), state);
}
function act(state: ChatState, ...actions: ChatAction[]): ChatState {
  return actions.reduce(chatReducer, state);
}

const msg = (id: string, role: 'user' | 'model', text: string, status: WireMessage['status'] = 'complete'): WireMessage => ({
  id,
  role,
  text,
  status,
  createdAt: 1,
});
const history = (messages: WireMessage[], turn: WireTurn | null = null): ChatFrame => ({
  type: 'history',
  chatId: CHAT,
  messages,
  turn,
  truncated: false,
});
const start = (turnId: string, replyTo = 'u1', replaces: string | null = null): ChatFrame => ({
  type: 'start',
  chatId: CHAT,
  turnId,
  replyTo,
  replaces,
});
const delta = (turnId: string, seq: number, text: string): ChatFrame => ({ type: 'delta', chatId: CHAT, turnId, seq, text });
const done = (turnId: string, messageId: string, reply: string, finishReason: 'stop' | 'stopped' = 'stop'): ChatFrame => ({
  type: 'done',
  chatId: CHAT,
  turnId,
  messageId,
  reply,
  finishReason,
});

describe('chatReducer: the history snapshot merged with live deltas', () => {
  it('continues a turn from the snapshot: deltas up to turn.seq are ignored, the next ones appended', () => {
    let s = apply(
      initialChatState(CHAT),
      history([msg('u1', 'user', '안녕?')], { turnId: 't1', replyTo: 'u1', replaces: null, text: '안녕하세요, ', seq: 3 }),
    );
    expect(s.loaded).toBe(true);
    expect(s.turn?.text).toBe('안녕하세요, ');
    s = apply(s, delta('t1', 2, '하세요, '), delta('t1', 3, '하세요, '), delta('t1', 4, '무엇을 '), delta('t1', 4, '무엇을 '), delta('t1', 5, '도와드릴까요?'));
    expect(s.turn?.text).toBe('안녕하세요, 무엇을 도와드릴까요?');
    expect(s.turn?.seq).toBe(5);
    expect(s.resync).toBe(false);
  });

  it('asks for a fresh snapshot on a gap, and takes the next snapshot as the truth', () => {
    let s = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q')]), start('t1'), delta('t1', 1, 'a'));
    s = apply(s, delta('t1', 3, 'c'));
    expect(s.resync).toBe(true);
    expect(s.turn?.text).toBe('a'); // nothing appended past the gap
    s = apply(s, history([msg('u1', 'user', 'q')], { turnId: 't1', replyTo: 'u1', replaces: null, text: 'abc', seq: 3 }));
    expect(s.resync).toBe(false);
    s = apply(s, delta('t1', 3, 'c'), delta('t1', 4, 'd'));
    expect(s.turn?.text).toBe('abcd');
  });

  it('a delta of a turn never started asks for a snapshot', () => {
    const s = apply(initialChatState(CHAT), history([]), delta('tX', 1, 'x'));
    expect(s.resync).toBe(true);
    expect(s.turn).toBeNull();
  });

  it('done stores the model message and ends the turn', () => {
    const s = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q')]), start('t1'), delta('t1', 1, 'ans'), done('t1', 'm1', 'answer'));
    expect(s.turn).toBeNull();
    expect(s.messages.map((m) => [m.id, m.role, m.text, m.status])).toEqual([
      ['u1', 'user', 'q', 'complete'],
      ['m1', 'model', 'answer', 'complete'],
    ]);
    expect(s.announcement?.text).toBe('answer');
  });

  it('a stopped answer is kept with status stopped', () => {
    const s = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q')]), start('t1'), delta('t1', 1, 'par'), done('t1', 'm1', 'par', 'stopped'));
    expect(s.messages[1]).toMatchObject({ id: 'm1', status: 'stopped', text: 'par' });
  });

  it('a takeover (new start, same replyTo) drops the old partial text and the old turn’s late frames', () => {
    let s = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q')]), start('t1'), delta('t1', 1, 'old partial'));
    s = apply(s, start('t2', 'u1'));
    expect(s.turn).toMatchObject({ turnId: 't2', text: '', seq: 0 });
    s = apply(s, delta('t1', 2, ' late'), delta('t2', 1, 'new'), done('t1', 'mOld', 'old'));
    expect(s.turn?.text).toBe('new');
    expect(s.messages.map((m) => m.id)).toEqual(['u1']);
    expect(s.resync).toBe(false);
    s = apply(s, done('t2', 'm2', 'new answer'));
    expect(s.messages.map((m) => m.id)).toEqual(['u1', 'm2']);
  });

  it('regenerate: the new message replaces the old one in place when done', () => {
    let s = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q'), msg('m1', 'model', 'first', 'stopped')]));
    s = apply(s, start('t2', 'u1', 'm1'), delta('t2', 1, 'second'));
    expect(s.turn?.replaces).toBe('m1');
    expect(s.messages.map((m) => m.id)).toEqual(['u1', 'm1']); // still there while streaming (hidden by the list)
    s = apply(s, done('t2', 'm2', 'second'));
    expect(s.messages.map((m) => [m.id, m.text])).toEqual([
      ['u1', 'q'],
      ['m2', 'second'],
    ]);
  });

  it('a turn that fails after start stores the failed message (with its code) from the partial text', () => {
    const s = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q')]), start('t1'), delta('t1', 1, 'part'), {
      type: 'error',
      code: 'llm_unavailable',
      message: 'x',
      retryable: true,
      chatId: CHAT,
      turnId: 't1',
      messageId: 'm1',
    });
    expect(s.turn).toBeNull();
    expect(s.messages[1]).toMatchObject({ id: 'm1', role: 'model', text: 'part', status: 'error', errorCode: 'llm_unavailable' });
    const interrupted = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q')]), start('t1'), {
      type: 'error',
      code: 'interrupted',
      message: 'x',
      retryable: true,
      chatId: CHAT,
      turnId: 't1',
      messageId: 'm9',
    });
    expect(interrupted.messages[1]).toMatchObject({ status: 'interrupted' });
  });

  it('a failed regenerate keeps the old message and offers regenerate again', () => {
    const s = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q'), msg('m1', 'model', 'old')]), start('t2', 'u1', 'm1'), {
      type: 'error',
      code: 'llm_rate_limited',
      message: 'x',
      retryable: true,
      chatId: CHAT,
      turnId: 't2',
    });
    expect(s.messages.map((m) => m.id)).toEqual(['u1', 'm1']);
    expect(s.notice).toMatchObject({ code: 'llm_rate_limited', retry: 'regenerate' });
  });

  it('a send: pending until ack, then a stored user message; awaiting its turn until start', () => {
    let s = apply(initialChatState(CHAT), history([]));
    s = act(s, { type: 'outgoing', message: { clientMsgId: 'c1', kind: 'send', text: '질문', createdAt: 5, error: null } });
    expect(isBusy(s)).toBe(true);
    s = apply(s, { type: 'ack', chatId: CHAT, clientMsgId: 'c1', messageId: 'u1', duplicate: false });
    expect(s.outgoing).toEqual([]);
    expect(s.messages).toMatchObject([{ id: 'u1', role: 'user', text: '질문' }]);
    expect(s.awaitingTurn).toBe(true);
    s = apply(s, start('t1', 'u1'));
    expect(s.awaitingTurn).toBe(false);
    expect(isBusy(s)).toBe(true);
    s = apply(s, done('t1', 'm1', 'a'));
    expect(isBusy(s)).toBe(false);
  });

  it('a duplicate ack after a reconnect adds no second message (the history has it)', () => {
    let s = apply(initialChatState(CHAT), history([]));
    s = act(s, { type: 'outgoing', message: { clientMsgId: 'c1', kind: 'send', text: 'q', createdAt: 5, error: null } });
    // The reconnect's snapshot already holds the message (stored before the connection dropped)...
    s = apply(s, history([msg('u1', 'user', 'q')], { turnId: 't1', replyTo: 'u1', replaces: null, text: 'a', seq: 1 }));
    // ...then the resent send is acked as a duplicate.
    s = apply(s, { type: 'ack', chatId: CHAT, clientMsgId: 'c1', messageId: 'u1', duplicate: true });
    expect(s.messages.map((m) => m.id)).toEqual(['u1']);
    expect(s.outgoing).toEqual([]);
    s = apply(s, delta('t1', 2, 'b'));
    expect(s.turn?.text).toBe('ab');
  });

  it('an error before the ack marks the message as failed, with its code and retryability', () => {
    let s = apply(initialChatState(CHAT), history([]));
    s = act(s, { type: 'outgoing', message: { clientMsgId: 'c1', kind: 'send', text: 'q', createdAt: 5, error: null } });
    s = apply(s, { type: 'error', code: 'rate_limited', message: 'x', retryable: true, chatId: CHAT, clientMsgId: 'c1', retryAfterMs: 3000 });
    expect(s.outgoing[0]?.error).toEqual({ code: 'rate_limited', retryable: true, retryAfterMs: 3000 });
    expect(isBusy(s)).toBe(false);
    s = act(s, { type: 'retry-outgoing', clientMsgId: 'c1' });
    expect(s.outgoing[0]?.error).toBeNull();
  });

  it('an error naming the chat but no turn and no message is about the chat: retry = join again, the wait for a turn goes on', () => {
    let s = apply(initialChatState(CHAT), history([]));
    s = act(s, { type: 'outgoing', message: { clientMsgId: 'c1', kind: 'send', text: 'q', createdAt: 5, error: null } });
    s = apply(s, { type: 'ack', chatId: CHAT, clientMsgId: 'c1', messageId: 'u1', duplicate: false });
    // A `stop` (or a `join`) that failed: not the answer's end (a turn's error names its turn).
    s = apply(s, { type: 'error', code: 'store_unavailable', message: 'x', retryable: true, chatId: CHAT });
    expect(s.notice).toMatchObject({ code: 'store_unavailable', retry: 'rejoin' });
    expect(s.awaitingTurn).toBe(true);
    expect(isBusy(s)).toBe(true);
    // A frame-level error (no chat): nothing to retry.
    expect(apply(s, { type: 'error', code: 'bad_request', message: 'x', retryable: false }).notice).toMatchObject({ retry: null });
    const t = apply(initialChatState(CHAT), { type: 'error', code: 'store_unavailable', message: 'x', retryable: true, chatId: CHAT });
    expect(t.notice).toMatchObject({ retry: 'rejoin' });
    expect(apply(t, history([])).notice).toBeNull();
  });

  it('a start answering a message this page never saw (another tab) asks for a snapshot; not while our send awaits its ack', () => {
    let s = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q'), msg('m1', 'model', 'a')]), start('t2', 'u2'));
    expect(s.turn?.replyTo).toBe('u2');
    expect(s.resync).toBe(true);
    s = apply(s, history([msg('u1', 'user', 'q'), msg('m1', 'model', 'a'), msg('u2', 'user', 'from the other tab')], { turnId: 't2', replyTo: 'u2', replaces: null, text: '', seq: 0 }));
    expect(s.resync).toBe(false);
    // A known replyTo (a takeover, a regenerate) needs nothing.
    expect(apply(s, start('t3', 'u2')).resync).toBe(false);
    // Our own send: the start may come with (or, reordered, before) its ack; the ack decides.
    let o = apply(initialChatState(CHAT), history([]));
    o = act(o, { type: 'outgoing', message: { clientMsgId: 'c1', kind: 'send', text: 'q', createdAt: 5, error: null } });
    o = apply(o, start('t1', 'u1'));
    expect(o.resync).toBe(false);
    expect(apply(o, { type: 'ack', chatId: CHAT, clientMsgId: 'c1', messageId: 'u1', duplicate: false }).resync).toBe(false);
    expect(apply(o, { type: 'error', code: 'busy', message: 'x', retryable: true, chatId: CHAT, clientMsgId: 'c1' }).resync).toBe(true);
  });

  it('a new message makes older refused ones not retryable (shown as not sent); retry waits for retryAfterMs', () => {
    let s = apply(initialChatState(CHAT), history([]));
    s = act(s, { type: 'outgoing', message: { clientMsgId: 'c1', kind: 'send', text: 'first', createdAt: 5, error: null } });
    s = apply(s, { type: 'error', code: 'rate_limited', message: 'x', retryable: true, chatId: CHAT, clientMsgId: 'c1', retryAfterMs: 3000 });
    const first = s.outgoing[0]!;
    expect(first.retryAt).toBe(1000 + 3000);
    expect(canRetry(first, false, 3999)).toBe(false);
    expect(canRetry(first, false, 4000)).toBe(true);
    expect(canRetry(first, true, 4000)).toBe(false); // not while an answer is on its way
    s = act(s, { type: 'outgoing', message: { clientMsgId: 'c2', kind: 'send', text: 'second', createdAt: 6, error: null } });
    expect(s.outgoing.map((o) => [o.clientMsgId, o.superseded === true])).toEqual([
      ['c1', true],
      ['c2', false],
    ]);
    expect(canRetry(s.outgoing[0]!, false, 10_000)).toBe(false);
  });

  it('after a reconnect, a pending send the snapshot already holds is marked stored (hidden until its ack)', () => {
    let s = apply(initialChatState(CHAT), history([msg('u0', 'user', 'same'), msg('m0', 'model', 'a')]));
    s = act(s, { type: 'outgoing', message: { clientMsgId: 'c1', kind: 'send', text: 'same', createdAt: 5, error: null } });
    // The same text as an older message the page knew: not this one.
    s = apply(s, history([msg('u0', 'user', 'same'), msg('m0', 'model', 'a')]));
    expect(s.outgoing[0]?.storedAs).toBeUndefined();
    s = apply(s, history([msg('u0', 'user', 'same'), msg('m0', 'model', 'a'), msg('u1', 'user', 'same')]));
    expect(s.outgoing[0]?.storedAs).toBe('u1');
    expect(isBusy(s)).toBe(true);
    // Its resend fails after all: shown again, as failed.
    const failed = apply(s, { type: 'error', code: 'store_unavailable', message: 'x', retryable: true, chatId: CHAT, clientMsgId: 'c1' });
    expect(failed.outgoing[0]).toMatchObject({ error: { code: 'store_unavailable' } });
    expect(failed.outgoing[0]?.storedAs).toBeUndefined();
    // Acked: gone, and the message is there once.
    s = apply(s, { type: 'ack', chatId: CHAT, clientMsgId: 'c1', messageId: 'u1', duplicate: true });
    expect(s.outgoing).toEqual([]);
    expect(s.messages.map((m) => m.id)).toEqual(['u0', 'm0', 'u1']);
  });

  it('frames of another chat are ignored', () => {
    const s0 = apply(initialChatState(CHAT), history([]));
    const s1 = chatReducer(s0, { type: 'frame', at: 1, frame: { type: 'start', chatId: 'other-chat-000000000', turnId: 't', replyTo: 'u', replaces: null } });
    expect(s1).toBe(s0);
  });

  it('keeps unchanged messages by reference across snapshots (bubbles do not re-render)', () => {
    const s1 = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q'), msg('m1', 'model', 'a')]));
    const s2 = apply(s1, history([msg('u1', 'user', 'q'), msg('m1', 'model', 'a'), msg('u2', 'user', 'q2')]));
    expect(s2.messages[0]).toBe(s1.messages[0]);
    expect(s2.messages[1]).toBe(s1.messages[1]);
  });

  it('a delta changes only the turn (the message list keeps its reference)', () => {
    const s1 = apply(initialChatState(CHAT), history([msg('u1', 'user', 'q')]), start('t1'));
    const s2 = apply(s1, delta('t1', 1, 'x'));
    expect(s2.messages).toBe(s1.messages);
    expect(s2.outgoing).toBe(s1.outgoing);
    expect(s2.turn).not.toBe(s1.turn);
  });
});
