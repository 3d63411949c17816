/** `MAX_MESSAGE_CHARS` is at most this many code points, so that a maximal message fits the frame ceiling. */
export const MAX_MESSAGE_CHARS_CEILING = 65_536;

/** No inbound frame may be larger than this (1 MiB). */
export const MAX_FRAME_BYTES_CEILING = 1024 * 1024;

/** Budget of one `history` frame (512 KiB): beyond it, only the newest messages, with `truncated: true`. */
export const HISTORY_FRAME_BUDGET_BYTES = 512 * 1024;

/**
 * The inbound frame cap for a message limit (`welcome.limits.maxFrameBytes`): a maximal
 * message with every code point JSON-escaped (12 bytes for `\uXXXX\uXXXX`) plus 4 KiB for
 * the other fields, never above the 1 MiB ceiling.
 */
export function maxFrameBytes(maxMessageChars: number): number {
  return Math.min(MAX_FRAME_BYTES_CEILING, 12 * maxMessageChars + 4096);
}
