import { describe, expect, it } from 'vitest';
import { decodeServerFrame, type ServerFrame } from '../src/index.js';

const CHAT = 'chat-0123456789abcdef';

const frames: ServerFrame[] = [
  { type: 'welcome', protocol: 1, serverId: 's1', model: 'demo', limits: { maxMessageChars: 8000, maxFrameBytes: 100_096 } },
  {
    type: 'history',
    chatId: CHAT,
    messages: [
      { id: 'm1', role: 'user', text: 'hi', createdAt: 1, status: 'complete' },
      { id: 'm2', role: 'model', text: 'he', createdAt: 2, status: 'interrupted' },
    ],
    turn: { turnId: 't1', replyTo: 'm1', replaces: null, text: 'he', seq: 3 },
    truncated: false,
  },
  { type: 'history', chatId: CHAT, messages: [], turn: null, truncated: true },
  { type: 'ack', chatId: CHAT, clientMsgId: 'msg-00001', messageId: 'm1', duplicate: false },
  { type: 'start', chatId: CHAT, turnId: 't1', replyTo: 'm1', replaces: 'm2' },
  { type: 'delta', chatId: CHAT, turnId: 't1', seq: 1, text: 'he' },
  { type: 'done', chatId: CHAT, turnId: 't1', messageId: 'm3', reply: 'hello', finishReason: 'max_tokens' },
  { type: 'error', code: 'internal', message: 'Internal server error.', retryable: true },
  {
    type: 'error',
    code: 'rate_limited',
    message: 'Too many messages; retry later.',
    retryable: true,
    chatId: CHAT,
    clientMsgId: 'msg-00001',
    retryAfterMs: 1500,
  },
  { type: 'error', code: 'llm_unavailable', message: 'x', retryable: true, chatId: CHAT, turnId: 't1', messageId: 'm3' },
  { type: 'error', code: 'llm_unavailable', message: 'x', retryable: true, chatId: CHAT, turnId: 't1', detail: 'overloaded' },
];

describe('decodeServerFrame', () => {
  it.each(frames.map((f) => [f.type, f] as const))('accepts a %s frame as the server sends it', (_type, frame) => {
    expect(decodeServerFrame(JSON.stringify(frame))).toEqual({ ok: true, value: frame });
  });

  it('keeps an error with a code it does not know (a newer server), as internal', () => {
    const frame = { type: 'error', code: 'a_newer_code', message: 'x', retryable: false, chatId: CHAT };
    expect(decodeServerFrame(JSON.stringify(frame))).toEqual({ ok: true, value: { ...frame, code: 'internal' } });
  });

  it('keeps an error with a detail it does not know (a newer server), without the detail', () => {
    const frame = { type: 'error', code: 'llm_unavailable', message: 'x', retryable: true, chatId: CHAT };
    expect(decodeServerFrame(JSON.stringify({ ...frame, detail: 'melted' }))).toEqual({ ok: true, value: frame });
  });

  it('drops fields it does not know (a newer server may add some)', () => {
    const frame = { type: 'delta', chatId: CHAT, turnId: 't1', seq: 1, text: 'x' };
    expect(decodeServerFrame(JSON.stringify({ ...frame, extra: 1 }))).toEqual({ ok: true, value: frame });
  });

  it.each([
    ['a binary frame', new ArrayBuffer(2), 'not a text frame'],
    ['not JSON', '{nope', 'not JSON'],
    ['an array', '[]', 'not an object with a string "type"'],
    ['no type', JSON.stringify({ chatId: CHAT }), 'not an object with a string "type"'],
    ['an unknown type', JSON.stringify({ type: 'shout' }), 'unknown frame type "shout"'],
    [
      'a wrong field',
      JSON.stringify({ type: 'delta', chatId: CHAT, turnId: 't1', seq: '1', text: 'x' }),
      'wrong or missing fields in "delta": seq',
    ],
    [
      'a missing nested field',
      JSON.stringify({ type: 'welcome', protocol: 1, serverId: 's', model: 'm', limits: { maxMessageChars: 1 } }),
      'wrong or missing fields in "welcome": limits.maxFrameBytes',
    ],
    ['another protocol version', JSON.stringify({ ...frames[0], protocol: 2 }), 'wrong or missing fields in "welcome": protocol'],
    [
      'an error code that is not a string',
      JSON.stringify({ type: 'error', code: 7, message: 'x', retryable: false }),
      'wrong or missing fields in "error": code',
    ],
    [
      'an unknown message status',
      JSON.stringify({ ...frames[1], messages: [{ id: 'm', role: 'user', text: '', createdAt: 1, status: 'lost' }] }),
      'wrong or missing fields in "history": messages.0.status',
    ],
  ])('refuses %s', (_name, data, reason) => {
    expect(decodeServerFrame(data)).toEqual({ ok: false, reason });
  });
});
