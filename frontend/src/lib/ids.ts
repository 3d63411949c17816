import { isValidChatId } from '@ai-chat/protocol';

/**
 * A random UUID v4 (36 characters of `[0-9a-f-]`: a valid `chatId` and `clientMsgId`).
 * `crypto.randomUUID` exists only in secure contexts (https, localhost); a deployment
 * served over plain http still has `crypto.getRandomValues`, so the UUID is built from it.
 */
export function randomId(cryptoImpl: Pick<Crypto, 'getRandomValues'> & Partial<Pick<Crypto, 'randomUUID'>> = globalThis.crypto): string {
  if (typeof cryptoImpl.randomUUID === 'function') {
    try {
      return cryptoImpl.randomUUID();
    } catch {
      // Some browsers expose it but throw outside a secure context: fall through.
    }
  }
  const b = cryptoImpl.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40; // version 4
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // variant 10xx
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const CHAT_ID_KEY = 'ai-chat:chatId';

type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>;

function safeStorage(): KeyValueStorage | null {
  try {
    // Missing outside the browser (Node); reading it throws where storage is disabled.
    return (globalThis as Partial<WindowLocalStorage>).localStorage ?? null;
  } catch {
    // Storage disabled (privacy settings, sandboxed iframe): the chat lasts one page life.
    return null;
  }
}

/** The chat this browser is in (the same in every tab and after a reload), created on first use. */
export function loadChatId(storage: KeyValueStorage | null = safeStorage()): string {
  let stored: string | null;
  try {
    stored = storage?.getItem(CHAT_ID_KEY) ?? null;
  } catch {
    stored = null;
  }
  if (stored && isValidChatId(stored)) return stored;
  return saveNewChatId(storage);
}

/** Starts a new conversation: a new id, remembered for the next reload. */
export function saveNewChatId(storage: KeyValueStorage | null = safeStorage()): string {
  const id = randomId();
  try {
    storage?.setItem(CHAT_ID_KEY, id);
  } catch {
    // Quota or disabled storage: the id still works for this page.
  }
  return id;
}
