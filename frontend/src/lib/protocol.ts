/**
 * What the page adds to the wire protocol: the protocol itself (frames, codes, limits,
 * identifier rules) is `@ai-chat/protocol`, shared with ai-server.
 */
import type { ServerFrame, WelcomeFrame } from '@ai-chat/protocol';

/** Frames that belong to one chat (everything but `welcome`; `error` only when it names a chat). */
export type ChatFrame = Exclude<ServerFrame, WelcomeFrame>;

/** The UTF-8 size of a string in bytes (what the server's frame cap counts), without encoding it. */
export function utf8ByteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
