import { describe, expect, it } from 'vitest';
import { decodeClientFrame, type ClientFrameResult } from '../src/index.js';

const CHAT = 'chat-0123456789abcdef';
const MSG = 'msg-00001';
const MAX = 10;

const decode = (frame: unknown, max = MAX): ClientFrameResult =>
  decodeClientFrame(typeof frame === 'string' ? frame : JSON.stringify(frame), max);

function fault(frame: unknown, max = MAX) {
  const result = decode(frame, max);
  if (result.ok) throw new Error(`expected a fault, got ${JSON.stringify(result.value)}`);
  return result.fault;
}

describe('decodeClientFrame: valid frames', () => {
  it('accepts every v1 frame and keeps only its known fields', () => {
    const frames = [
      { type: 'hello', protocol: 1 },
      { type: 'hello', protocol: 1, token: 't' },
      { type: 'join', chatId: CHAT },
      { type: 'leave', chatId: CHAT },
      { type: 'send', chatId: CHAT, clientMsgId: MSG, text: 'hi' },
      { type: 'stop', chatId: CHAT },
      { type: 'regenerate', chatId: CHAT, clientMsgId: MSG },
    ];
    for (const frame of frames) {
      expect(decode({ ...frame, extra: true })).toEqual({ ok: true, value: { kind: 'v1', frame } });
    }
  });

  it('trims the text of a send', () => {
    expect(decode({ type: 'send', chatId: CHAT, clientMsgId: MSG, text: '  hi \n' })).toEqual({
      ok: true,
      value: { kind: 'v1', frame: { type: 'send', chatId: CHAT, clientMsgId: MSG, text: 'hi' } },
    });
  });

  it('reads a frame with no type and the fields chatId and message as a legacy send', () => {
    expect(decode({ chatId: CHAT, message: ' hello ' })).toEqual({
      ok: true,
      value: { kind: 'legacy', frame: { chatId: CHAT, message: 'hello' } },
    });
  });

  it('counts the limit in code points, after trimming', () => {
    const tenEmoji = '😀'.repeat(10); // 20 UTF-16 units
    expect(decode({ type: 'send', chatId: CHAT, clientMsgId: MSG, text: ` ${tenEmoji} ` }).ok).toBe(true);
    expect(fault({ type: 'send', chatId: CHAT, clientMsgId: MSG, text: `${tenEmoji}!` })).toEqual({
      code: 'too_long',
      message: 'The message is longer than 10 characters.',
      context: { chatId: CHAT, clientMsgId: MSG },
    });
  });
});

describe('decodeClientFrame: faults', () => {
  it.each([
    ['not JSON', '{nope', 'The frame is not JSON.'],
    ['an array', '[1,2]', 'The frame is not a JSON object.'],
    ['a JSON string', '"send"', 'The frame is not a JSON object.'],
    ['null', 'null', 'The frame is not a JSON object.'],
    ['no type', { chatId: CHAT }, 'The frame has no string "type".'],
    ['a number as type', { type: 3 }, 'The frame has no string "type".'],
    ['an unknown type', { type: 'shout' }, 'Unknown frame type "shout".'],
    ['a wrong field type', { type: 'send', chatId: CHAT, clientMsgId: MSG, text: 42 }, 'Wrong or missing fields in "send": text.'],
    ['a missing field', { type: 'join' }, 'Wrong or missing fields in "join": chatId.'],
    ['two wrong fields', { type: 'send', chatId: 1 }, 'Wrong or missing fields in "send": chatId, clientMsgId, text.'],
    ['a legacy frame with a number', { chatId: CHAT, message: 1 }, 'chatId and message must be strings.'],
  ])('%s is a bad_request', (_name, frame, message) => {
    expect(fault(frame)).toMatchObject({ code: 'bad_request', message });
  });

  it('cuts a long unknown type in its message', () => {
    expect(fault({ type: 'x'.repeat(100) }).message).toBe(`Unknown frame type "${'x'.repeat(32)}".`);
  });

  it.each([
    ['a short chatId', { type: 'join', chatId: 'short' }],
    ['a chatId with a space', { type: 'join', chatId: 'chat 0123456789abcdef' }],
    ['a chatId of 65 characters', { type: 'stop', chatId: 'a'.repeat(65) }],
    ['a legacy chatId', { chatId: 'bad', message: 'hi' }],
  ])('%s is invalid_chat_id', (_name, frame) => {
    expect(fault(frame)).toEqual({
      code: 'invalid_chat_id',
      message: 'chatId must be 16 to 64 characters of [A-Za-z0-9_-].',
      context: {},
    });
  });

  it('a bad clientMsgId is invalid_chat_id, with the chatId as context', () => {
    expect(fault({ type: 'regenerate', chatId: CHAT, clientMsgId: 'm-1' })).toEqual({
      code: 'invalid_chat_id',
      message: 'clientMsgId must be 8 to 64 characters of [A-Za-z0-9_-].',
      context: { chatId: CHAT },
    });
  });

  it('an empty or blank text is too_long', () => {
    for (const text of ['', ' \n\t ']) {
      expect(fault({ type: 'send', chatId: CHAT, clientMsgId: MSG, text })).toEqual({
        code: 'too_long',
        message: 'The message is empty.',
        context: { chatId: CHAT, clientMsgId: MSG },
      });
    }
    expect(fault({ chatId: CHAT, message: '  ' })).toMatchObject({ code: 'too_long', context: { chatId: CHAT } });
  });

  it('keeps the valid ids it saw as context, even when the frame is refused', () => {
    expect(fault({ type: 'send', chatId: CHAT, clientMsgId: MSG })).toMatchObject({
      code: 'bad_request',
      context: { chatId: CHAT, clientMsgId: MSG },
    });
  });
});

describe('decodeClientFrame: text that is not valid Unicode', () => {
  it('refuses a lone surrogate in a send, a legacy frame or any other string, with the frame context', () => {
    const lone = [
      `{"type":"send","chatId":"${CHAT}","clientMsgId":"${MSG}","text":"x\\ud800y"}`,
      `{"type":"send","chatId":"${CHAT}","clientMsgId":"${MSG}","text":"x\\udc00"}`,
      `{"chatId":"${CHAT}","message":"\\ud83d"}`,
      `{"type":"hello","protocol":1,"token":"\\udfff"}`,
      `{"type":"join","chatId":"${CHAT}","extra":{"\\ud800":1}}`,
    ];
    for (const frame of lone) {
      expect(fault(frame).code).toBe('bad_request');
    }
    expect(fault(lone[0]).context).toEqual({ chatId: CHAT, clientMsgId: MSG });
  });

  it('accepts a surrogate pair (an emoji), escaped or not', () => {
    for (const text of ['\\ud83d\\ude00', '😀']) {
      const result = decode(`{"type":"send","chatId":"${CHAT}","clientMsgId":"${MSG}","text":"${text}"}`);
      expect(result).toEqual({ ok: true, value: { kind: 'v1', frame: { type: 'send', chatId: CHAT, clientMsgId: MSG, text: '😀' } } });
    }
  });
});
