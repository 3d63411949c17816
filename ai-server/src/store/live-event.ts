import type { LiveFrame } from '@ai-chat/protocol';
import type { LiveEnvelope } from './chat-store.js';

/**
 * What a store publishes on a chat's channel: data, not frames. `ev` orders events
 * against snapshots (0 for the controls, which are not frames). The frame that ends a
 * turn (`done` or `error`) is the one the chat service handed to `endTurn`.
 */
export type LiveEvent =
  | { ev: number; kind: 'start'; turnId: string; replyTo: string; replaces: string | null }
  | { ev: number; kind: 'delta'; turnId: string; seq: number; text: string }
  | { ev: number; kind: 'end'; frame: LiveFrame }
  | { ev: 0; kind: 'stop' | 'handover'; turnId: string };

/** The one place where store events become protocol frames (or controls). */
export function toEnvelope(chatId: string, event: LiveEvent): LiveEnvelope {
  switch (event.kind) {
    case 'start':
      return {
        ev: event.ev,
        frame: { type: 'start', chatId, turnId: event.turnId, replyTo: event.replyTo, replaces: event.replaces },
      };
    case 'delta':
      return { ev: event.ev, frame: { type: 'delta', chatId, turnId: event.turnId, seq: event.seq, text: event.text } };
    case 'end':
      return { ev: event.ev, frame: event.frame };
    case 'stop':
    case 'handover':
      return { ev: 0, control: event.kind, turnId: event.turnId };
  }
}

/** Reads an event published as JSON (the Redis channel). Null when malformed. */
export function parseLiveEvent(payload: string): LiveEvent | null {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return null;
  }
  const { ev, kind, turnId } = raw;
  if (typeof ev !== 'number') return null;
  const str = (v: unknown): v is string => typeof v === 'string';
  switch (kind) {
    case 'start':
      return str(turnId) && str(raw.replyTo) && (raw.replaces === null || str(raw.replaces))
        ? { ev, kind, turnId, replyTo: raw.replyTo, replaces: raw.replaces }
        : null;
    case 'delta':
      return str(turnId) && typeof raw.seq === 'number' && str(raw.text)
        ? { ev, kind, turnId, seq: raw.seq, text: raw.text }
        : null;
    case 'end': {
      const frame = raw.frame as { type?: unknown } | null | undefined;
      return frame && typeof frame === 'object' && str(frame.type) ? { ev, kind, frame: frame as LiveFrame } : null;
    }
    case 'stop':
    case 'handover':
      return ev === 0 && str(turnId) ? { ev, kind, turnId } : null;
    default:
      return null;
  }
}
