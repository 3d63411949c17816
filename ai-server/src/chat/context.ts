import type { Message } from '@ai-chat/protocol';
import type { LlmMessage } from '../llm/llm-provider.js';

/** Whether a stored message is part of what the model sees (protocol.md, "Message"). */
function inContext(m: Message): boolean {
  if (m.role === 'user') return true;
  if (m.status === 'complete') return true;
  return m.status === 'stopped' && m.text.length > 0;
}

/**
 * Builds the model's conversation for answering `replyTo` from the stored messages (oldest
 * first): failed and interrupted answers left out, adjacent same-role messages joined, the
 * newest part within `maxChars`, starting and ending with the user. Returns null when
 * `replyTo` is not among `messages`.
 */
export function buildContext(messages: readonly Message[], replyTo: string, maxChars: number): LlmMessage[] | null {
  const end = messages.findIndex((m) => m.id === replyTo);
  if (end < 0 || messages[end]?.role !== 'user') return null;

  const merged: LlmMessage[] = [];
  for (const m of messages.slice(0, end + 1)) {
    if (!inContext(m)) continue;
    const last = merged[merged.length - 1];
    if (last?.role === m.role) last.text = `${last.text}\n\n${m.text}`;
    else merged.push({ role: m.role, text: m.text });
  }

  // Newest first within the budget; the message being answered always goes in.
  const out: LlmMessage[] = [];
  let chars = 0;
  for (const m of merged.toReversed()) {
    if (out.length > 0 && chars + m.text.length > maxChars) break;
    out.push(m);
    chars += m.text.length;
  }
  out.reverse();
  while (out.length > 0 && out[0]?.role !== 'user') out.shift();
  return out;
}
