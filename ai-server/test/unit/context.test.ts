import { describe, expect, it } from 'vitest';
import type { Message } from '@ai-chat/protocol';
import { buildContext } from '../../src/chat/context.js';

let n = 0;
const msg = (role: Message['role'], text: string, status: Message['status'] = 'complete'): Message => ({
  id: `m${++n}`,
  role,
  text,
  createdAt: n,
  status,
});

describe('buildContext', () => {
  it('keeps complete and non-empty stopped answers, drops failed ones and joins adjacent user turns', () => {
    const m = [
      msg('user', 'a'),
      msg('model', 'b'),
      msg('user', 'c'),
      msg('model', 'partial', 'error'),
      msg('user', 'd'),
      msg('model', 'cut', 'interrupted'),
      msg('user', 'e'),
      msg('model', 'seen', 'stopped'),
      msg('user', 'f'),
      msg('model', '', 'stopped'),
      msg('user', 'g'),
    ];
    expect(buildContext(m, m.at(-1)!.id, 1000)).toEqual([
      { role: 'user', text: 'a' },
      { role: 'model', text: 'b' },
      { role: 'user', text: 'c\n\nd\n\ne' },
      { role: 'model', text: 'seen' },
      { role: 'user', text: 'f\n\ng' },
    ]);
  });

  it('answers replyTo with what came before it only (regenerate ignores the replaced answer)', () => {
    const m = [msg('user', 'q'), msg('model', 'old')];
    expect(buildContext(m, m[0]!.id, 1000)).toEqual([{ role: 'user', text: 'q' }]);
  });

  it('keeps the newest part within the budget and always starts with the user', () => {
    const m = [msg('user', 'x'.repeat(50)), msg('model', 'y'.repeat(50)), msg('user', 'z'.repeat(50))];
    expect(buildContext(m, m[2]!.id, 120)).toEqual([{ role: 'user', text: 'z'.repeat(50) }]);
    expect(buildContext(m, m[2]!.id, 10)).toEqual([{ role: 'user', text: 'z'.repeat(50) }]);
    expect(buildContext(m, m[2]!.id, 150)).toHaveLength(3);
  });

  it('returns null when the message to answer is gone', () => {
    expect(buildContext([msg('user', 'q')], 'missing', 100)).toBeNull();
  });
});
