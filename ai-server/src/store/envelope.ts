import type { LiveFrame } from '@ai-chat/protocol';
import type { LiveEnvelope } from './chat-store.js';

/** Parses a live-channel payload; a delta's seq travels in the envelope. Null when malformed. */
export function parseEnvelope(payload: string): LiveEnvelope | null {
  try {
    const raw = JSON.parse(payload) as {
      ev?: unknown;
      seq?: unknown;
      frame?: Record<string, unknown>;
      control?: unknown;
      turnId?: unknown;
    };
    if ((raw.control === 'stop' || raw.control === 'handover') && typeof raw.turnId === 'string') {
      return { ev: 0, control: raw.control, turnId: raw.turnId };
    }
    if (typeof raw.ev !== 'number' || !raw.frame || typeof raw.frame.type !== 'string') return null;
    const frame = typeof raw.seq === 'number' ? { ...raw.frame, seq: raw.seq } : raw.frame;
    return { ev: raw.ev, frame: frame as unknown as LiveFrame };
  } catch {
    return null;
  }
}
