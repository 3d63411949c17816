import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHAT_ID_RE, CLIENT_MSG_ID_RE, codePointLength, decodeClientFrame, type ClientFrameResult } from '../src/index.js';

/**
 * Property-based tests of the inbound frame parser: whatever a client sends, it answers
 * without throwing, with an accepted frame that keeps the protocol's rules or with one of
 * the three codes the protocol gives a bad frame. The seed is fixed (FUZZ_SEED overrides
 * it); a failure prints the seed and the counterexample's path, so it reproduces.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_901);
const RUNS = 1000;
const params = { seed: SEED, numRuns: RUNS };

const FAULT_CODES = ['bad_request', 'invalid_chat_id', 'too_long'];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';

/** Any UTF-16 unit (lone surrogates included), or any code point. */
const anyChar = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
/** Text as a client might send it: mostly ordinary, sometimes blank, sometimes broken Unicode. */
const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: anyChar, maxLength: 30 }),
  fc.constantFrom('', '   ', '\n\t', 'x\ud800y', '\udc00', '😀'.repeat(12), ' hi '),
);
const idChars = (min: number, max: number) => fc.string({ unit: fc.integer({ min: 0, max: ALPHABET.length - 1 }).map((i) => ALPHABET.charAt(i)), minLength: min, maxLength: max });
/** A chatId: mostly valid (so that accepted frames are common), else just outside the rules, or anything at all. */
const chatId = fc.oneof({ arbitrary: idChars(16, 64), weight: 8 }, idChars(0, 15), idChars(65, 70), fc.string({ unit: anyChar, minLength: 16, maxLength: 20 }), fc.anything());
const clientMsgId = fc.oneof({ arbitrary: idChars(8, 64), weight: 8 }, idChars(0, 7), idChars(65, 70), fc.string({ unit: anyChar, minLength: 8, maxLength: 10 }), fc.anything());
const type = fc.oneof({ arbitrary: fc.constantFrom('hello', 'join', 'leave', 'send', 'stop', 'regenerate', 'list', 'Send'), weight: 4 }, fc.anything());

/** Frames close to valid ones: a known type mostly, each field present or not, right or wrong. */
const nearValidFrame = fc.record(
  {
    type,
    chatId,
    clientMsgId,
    text: fc.oneof({ arbitrary: text, weight: 4 }, fc.anything()),
    message: fc.oneof({ arbitrary: text, weight: 4 }, fc.anything()),
    protocol: fc.oneof(fc.constant(1), fc.anything()),
    token: fc.oneof(fc.string(), fc.anything()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);
const maxChars = fc.integer({ min: 1, max: 20 });

function decodeSafely(data: string, max: number): ClientFrameResult {
  let result: ClientFrameResult | undefined;
  expect(() => {
    result = decodeClientFrame(data, max);
  }).not.toThrow();
  return result!;
}

/** What every answer of the parser must satisfy, whatever the input. */
function checkResult(data: string, max: number, result: ClientFrameResult): void {
  // Text that is not valid Unicode never gets through, wherever it sits in the frame.
  if (parsesWithLoneSurrogate(data)) expect(result).toMatchObject({ ok: false, fault: { code: 'bad_request' } });
  if (!result.ok) {
    expect(FAULT_CODES).toContain(result.fault.code);
    expect(typeof result.fault.message).toBe('string');
    if (result.fault.context.chatId !== undefined) expect(result.fault.context.chatId).toMatch(CHAT_ID_RE);
    if (result.fault.context.clientMsgId !== undefined) expect(result.fault.context.clientMsgId).toMatch(CLIENT_MSG_ID_RE);
    return;
  }
  const { value } = result;
  if (value.kind === 'legacy') {
    expect(value.frame.chatId).toMatch(CHAT_ID_RE);
    checkText(value.frame.message, max);
    return;
  }
  const frame = value.frame;
  if ('chatId' in frame) expect(frame.chatId).toMatch(CHAT_ID_RE);
  if ('clientMsgId' in frame) expect(frame.clientMsgId).toMatch(CLIENT_MSG_ID_RE);
  if (frame.type === 'send') checkText(frame.text, max);
}

/** Whether `data` is JSON holding a string (value or key, at any depth) that is not valid Unicode. */
function parsesWithLoneSurrogate(data: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return false;
  }
  return !wellFormed(value);
}

/** encodeURIComponent refuses a lone surrogate: an oracle independent of the parser's. */
function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') {
    try {
      encodeURIComponent(value);
      return true;
    } catch {
      return false;
    }
  }
  if (typeof value !== 'object' || value === null) return true;
  return Object.entries(value).every(([k, v]) => wellFormed(k) && wellFormed(v));
}

function checkText(value: string, max: number): void {
  expect(value).toBe(value.trim());
  expect(codePointLength(value)).toBeGreaterThanOrEqual(1);
  expect(codePointLength(value)).toBeLessThanOrEqual(max);
  expect(wellFormed(value)).toBe(true);
}

describe('decodeClientFrame: properties', () => {
  it('any string: never throws; accepted or refused with a frame-fault code', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: anyChar }), fc.string({ unit: 'binary' })), maxChars, (data, max) => {
        checkResult(data, max, decodeSafely(data, max));
      }),
      params,
    );
  });

  it('any JSON value: never throws; refused unless it is an object', () => {
    fc.assert(
      fc.property(fc.jsonValue(), maxChars, (value, max) => {
        const data = JSON.stringify(value);
        const result = decodeSafely(data, max);
        checkResult(data, max, result);
        if (typeof value !== 'object' || value === null || Array.isArray(value)) expect(result.ok).toBe(false);
      }),
      params,
    );
  });

  it('near-valid frames: accepted ones keep the identifier and length rules; lone surrogates are refused', () => {
    const accepted = new Set<string>();
    fc.assert(
      fc.property(nearValidFrame, maxChars, (frame, max) => {
        const data = JSON.stringify(frame);
        const result = decodeSafely(data, max);
        checkResult(data, max, result);
        if (result.ok) accepted.add(result.value.kind === 'v1' ? result.value.frame.type : 'legacy');
      }),
      params,
    );
    // The generator reaches the parser's accepting paths, not only its refusals.
    expect([...accepted].sort()).toEqual(['hello', 'join', 'leave', 'legacy', 'regenerate', 'send', 'stop']);
  });

  it('valid frames are accepted with their fields as sent (text trimmed)', () => {
    const validChatId = idChars(16, 64);
    const validMsgId = idChars(8, 64);
    const validText = fc.string({ minLength: 1, maxLength: 20 }).filter((t) => t.trim().length > 0 && codePointLength(t.trim()) <= 20);
    const frame = fc.oneof(
      fc.record({ type: fc.constant('join' as const), chatId: validChatId }),
      fc.record({ type: fc.constant('leave' as const), chatId: validChatId }),
      fc.record({ type: fc.constant('stop' as const), chatId: validChatId }),
      fc.record({ type: fc.constant('regenerate' as const), chatId: validChatId, clientMsgId: validMsgId }),
      fc.record({ type: fc.constant('send' as const), chatId: validChatId, clientMsgId: validMsgId, text: validText }),
    );
    fc.assert(
      fc.property(frame, (f) => {
        const result = decodeSafely(JSON.stringify(f), 20);
        const expected = f.type === 'send' ? { ...f, text: f.text.trim() } : f;
        expect(result).toEqual({ ok: true, value: { kind: 'v1', frame: expected } });
      }),
      params,
    );
  });
});
