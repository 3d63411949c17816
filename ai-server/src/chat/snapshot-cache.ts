import type { ChatSnapshot, ChatStore } from '../store/chat-store.js';

/** How long a snapshot is reused (validated by its head each time); well under the shortest chat TTL. */
const MAX_AGE_MS = 10_000;
/** Chats whose snapshot is kept; the oldest kept is dropped first. */
const MAX_ENTRIES = 256;

/**
 * The newest snapshot of recently joined chats on this replica, so repeated joins of a
 * chat that has not changed cost a small head read, not its history. Every change of a
 * chat's messages or turn publishes an event (its `ev` grows); what changes without one
 * (the lease, the stop request) is taken from the head. A chat with no event yet is
 * never kept (nothing to save).
 */
export class SnapshotCache {
  private readonly entries = new Map<string, { snap: ChatSnapshot; at: number }>();

  constructor(
    private readonly store: ChatStore,
    private readonly maxMessages: number,
  ) {}

  async get(chatId: string): Promise<ChatSnapshot> {
    const entry = this.entries.get(chatId);
    if (entry && Date.now() - entry.at < MAX_AGE_MS) {
      const head = await this.store.snapshotHead(chatId);
      if (head.ev === entry.snap.ev) {
        const turn = entry.snap.turn;
        if (!turn || (turn.leaseAlive === head.leaseAlive && turn.stopRequested === head.stopRequested)) return entry.snap;
        return { ...entry.snap, turn: { ...turn, leaseAlive: head.leaseAlive, stopRequested: head.stopRequested } };
      }
    }
    const at = Date.now();
    const snap = await this.store.snapshot(chatId, this.maxMessages);
    this.entries.delete(chatId);
    if (snap.ev > 0) {
      this.entries.set(chatId, { snap, at });
      if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    }
    return snap;
  }
}
