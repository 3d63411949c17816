/** `chatId`: chosen by the client, 16 to 64 characters of `[A-Za-z0-9_-]`. */
export const CHAT_ID_RE = /^[A-Za-z0-9_-]{16,64}$/;

/** `clientMsgId`: chosen by the client per user message, 8 to 64 characters of the same alphabet. */
export const CLIENT_MSG_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

export function isValidChatId(id: string): boolean {
  return CHAT_ID_RE.test(id);
}
