import { describe, expect, it } from 'vitest';
import { CHAT_ID_KEY, loadChatId, randomId, saveNewChatId } from './ids';
import { isValidChatId } from '@ai-chat/protocol';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

describe('ids', () => {
  it('uses crypto.randomUUID when there is one', () => {
    expect(randomId({ randomUUID: () => '11111111-1111-4111-8111-111111111111', getRandomValues: (a) => a })).toBe(
      '11111111-1111-4111-8111-111111111111',
    );
  });

  it('builds a UUID v4 from getRandomValues where randomUUID is missing (plain http)', () => {
    const fallback: Pick<Crypto, 'getRandomValues'> = { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) };
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const id = randomId(fallback);
      expect(id).toMatch(UUID_V4);
      expect(isValidChatId(id)).toBe(true);
      ids.add(id);
    }
    expect(ids.size).toBe(200);
  });

  it('keeps the chat id in storage: the same after a reload, a new one for a new chat', () => {
    const storage = memoryStorage();
    const first = loadChatId(storage);
    expect(isValidChatId(first)).toBe(true);
    expect(loadChatId(storage)).toBe(first);
    const second = saveNewChatId(storage);
    expect(second).not.toBe(first);
    expect(loadChatId(storage)).toBe(second);
    storage.m.set(CHAT_ID_KEY, 'bad id!');
    expect(loadChatId(storage)).not.toBe('bad id!');
  });

  it('works without storage', () => {
    expect(isValidChatId(loadChatId(null))).toBe(true);
  });
});
