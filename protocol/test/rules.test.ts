import { describe, expect, it } from 'vitest';
import {
  CHAT_ID_RE,
  CLIENT_MSG_ID_RE,
  ErrorCodes,
  HISTORY_FRAME_BUDGET_BYTES,
  MAX_FRAME_BYTES_CEILING,
  MAX_MESSAGE_CHARS_CEILING,
  codePointLength,
  errorCodeSchema,
  isValidChatId,
  maxFrameBytes,
  type ErrorCode,
} from '../src/index.js';

describe('limits', () => {
  it('caps a frame at 12 bytes per character plus 4 KiB', () => {
    expect(maxFrameBytes(8000)).toBe(100_096);
    expect(maxFrameBytes(1)).toBe(4108);
  });

  it('a maximal message fits the frame cap even with every code point JSON-escaped', () => {
    // A client may write 😀 as `\ud83d\ude00`: 12 ASCII bytes for one code point.
    const text = '\\ud83d\\ude00'.repeat(100);
    const frame = `{"type":"send","chatId":"${'c'.repeat(64)}","clientMsgId":"${'m'.repeat(64)}","text":"${text}"}`;
    expect(codePointLength((JSON.parse(frame) as { text: string }).text)).toBe(100);
    expect(frame.length).toBeLessThanOrEqual(maxFrameBytes(100));
  });

  it('keeps the cap at most 1 MiB, and the longest allowed message under it', () => {
    expect(MAX_FRAME_BYTES_CEILING).toBe(1024 * 1024);
    expect(maxFrameBytes(MAX_MESSAGE_CHARS_CEILING)).toBeLessThanOrEqual(MAX_FRAME_BYTES_CEILING);
    expect(maxFrameBytes(10 * MAX_MESSAGE_CHARS_CEILING)).toBe(MAX_FRAME_BYTES_CEILING);
    expect(MAX_MESSAGE_CHARS_CEILING).toBe(65_536);
    expect(HISTORY_FRAME_BUDGET_BYTES).toBe(512 * 1024);
  });
});

describe('identifiers', () => {
  it('chatId: 16 to 64 characters of [A-Za-z0-9_-]', () => {
    expect(isValidChatId('a'.repeat(16))).toBe(true);
    expect(isValidChatId('0b7e4f0e-3c5a-4a8e-9f1d-2f6c1b9e7a10')).toBe(true);
    expect(isValidChatId('A-z_9'.repeat(12) + 'abcd')).toBe(true);
    expect(isValidChatId('a'.repeat(15))).toBe(false);
    expect(isValidChatId('a'.repeat(65))).toBe(false);
    expect(isValidChatId('a'.repeat(15) + '.')).toBe(false);
    expect(CHAT_ID_RE.test('a'.repeat(16) + '\n')).toBe(false);
  });

  it('clientMsgId: 8 to 64 characters of the same alphabet', () => {
    expect(CLIENT_MSG_ID_RE.test('msg-0001')).toBe(true);
    expect(CLIENT_MSG_ID_RE.test('msg-001')).toBe(false);
    expect(CLIENT_MSG_ID_RE.test('m'.repeat(65))).toBe(false);
  });

  it('counts characters in code points', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('한글')).toBe(2);
    expect(codePointLength('😀👍🏽')).toBe(3);
  });
});

describe('error codes', () => {
  it('are the protocol v1 catalogue, each with its retryability', () => {
    const retryable = Object.fromEntries(Object.entries(ErrorCodes).map(([code, c]) => [code, c.retryable]));
    expect(retryable).toEqual({
      bad_request: false,
      invalid_chat_id: false,
      too_long: false,
      rate_limited: true,
      busy: true,
      llm_rate_limited: true,
      llm_unavailable: true,
      llm_refused: false,
      store_unavailable: true,
      interrupted: true,
      internal: true,
    } satisfies Record<ErrorCode, boolean>);
    for (const c of Object.values(ErrorCodes)) expect(c.message).toMatch(/^[A-Za-z].+\.$/);
  });

  it('the schema accepts exactly the catalogue', () => {
    for (const code of Object.keys(ErrorCodes)) expect(errorCodeSchema.safeParse(code).success).toBe(true);
    expect(errorCodeSchema.safeParse('forbidden').success).toBe(false);
  });
});
