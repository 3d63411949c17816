/**
 * The keys of one chat, in the order the Lua scripts receive them as `KEYS`. The scripts
 * never use a position: `LUA_KEYS` names each one (`K.msgs`, `K.turn`, …).
 *
 * msgs: list of message JSON, oldest first; idem: hash clientMsgId → messageId; turn:
 * hash of the streaming turn; text: the turn's reply so far; lease: the producer's
 * turnId (PX, the only key without the chat's TTL); ev: the chat's event counter.
 */
export const CHAT_KEY_NAMES = ['msgs', 'idem', 'turn', 'text', 'lease', 'ev'] as const;
export type ChatKeyName = (typeof CHAT_KEY_NAMES)[number];
export type ChatKeys = Readonly<Record<ChatKeyName, string>>;

/**
 * The named keys of one chat. Every key carries the hash tag `{chatId}`, so all of a
 * chat's keys share a Redis Cluster slot and its scripts stay atomic there.
 */
export function chatKeys(prefix: string, chatId: string): ChatKeys {
  const base = `${prefix}chat:{${chatId}}`;
  return Object.fromEntries(CHAT_KEY_NAMES.map((name) => [name, `${base}:${name}`])) as Record<ChatKeyName, string>;
}

/** The keys as the scripts receive them, in `CHAT_KEY_NAMES` order. */
export function keyList(keys: ChatKeys): string[] {
  return CHAT_KEY_NAMES.map((name) => keys[name]);
}

/** The Lua line that names the keys: `local K = {msgs = KEYS[1], …}`. */
export const LUA_KEYS = `local K = {${CHAT_KEY_NAMES.map((name, i) => `${name} = KEYS[${i + 1}]`).join(', ')}}`;

export function chatChannel(prefix: string, chatId: string): string {
  return `${prefix}chat:{${chatId}}:live`;
}
