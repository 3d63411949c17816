/**
 * Key names of one chat. Every key carries the hash tag `{chatId}`, so all of a chat's
 * keys share a Redis Cluster slot and its scripts stay atomic there.
 */
export function chatKeys(prefix: string, chatId: string): string[] {
  const base = `${prefix}chat:{${chatId}}`;
  return [`${base}:msgs`, `${base}:idem`, `${base}:turn`, `${base}:text`, `${base}:lease`, `${base}:ev`];
}

export function chatChannel(prefix: string, chatId: string): string {
  return `${prefix}chat:{${chatId}}:live`;
}
