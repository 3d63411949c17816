import type { LiveFrame, Message } from '@ai-chat/protocol';
import type {
  BeginRegenerate,
  BeginResult,
  BeginSend,
  ChatSnapshot,
  ChatStore,
  EndTurn,
  LiveEnvelope,
  StoredTurn,
  TurnSignal,
} from './chat-store.js';

export interface MemoryChatStoreOptions {
  ttlSeconds: number;
  maxMessages: number;
  leaseMs: number;
  /** Injectable clock for tests. */
  now?: () => number;
}

interface ChatRecord {
  messages: Message[];
  idem: Map<string, string>;
  turn: { turnId: string; replyTo: string; replaces: string | null; seq: number; owner: string; stop: boolean } | null;
  text: string;
  lease: { turnId: string; expiresAt: number } | null;
  ev: number;
  expiresAt: number;
}

/**
 * The in-process store: the same semantics as the Redis one for a single replica with no
 * Redis (`npm start` on a fresh machine). Nothing survives a restart.
 */
export class MemoryChatStore implements ChatStore {
  private readonly chats = new Map<string, ChatRecord>();
  private readonly listeners = new Map<string, Set<(e: LiveEnvelope) => void>>();
  private readonly now: () => number;

  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: MemoryChatStoreOptions) {
    this.now = options.now ?? Date.now;
    // Expired chats are dropped when touched; the sweep frees the ones nobody touches again.
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = this.now();
    for (const [chatId, c] of this.chats) if (c.expiresAt <= now && !c.turn) this.chats.delete(chatId);
  }

  private chat(chatId: string, create: boolean): ChatRecord | undefined {
    let c = this.chats.get(chatId);
    if (c && c.expiresAt <= this.now()) {
      this.chats.delete(chatId);
      c = undefined;
    }
    if (!c && create) {
      c = { messages: [], idem: new Map(), turn: null, text: '', lease: null, ev: 0, expiresAt: 0 };
      this.chats.set(chatId, c);
    }
    if (c) c.expiresAt = this.now() + this.options.ttlSeconds * 1000;
    return c;
  }

  private leaseHolder(c: ChatRecord): string | null {
    if (c.lease && c.lease.expiresAt <= this.now()) c.lease = null;
    return c.lease?.turnId ?? null;
  }

  private emit(chatId: string, envelope: LiveEnvelope): void {
    // Redis delivers published messages asynchronously; so do we, in order.
    const set = this.listeners.get(chatId);
    if (!set) return;
    const targets = [...set];
    queueMicrotask(() => {
      for (const l of targets) l(envelope);
    });
  }

  private pub(chatId: string, c: ChatRecord, frame: LiveFrame): void {
    c.ev += 1;
    this.emit(chatId, { ev: c.ev, frame });
  }

  private trim(c: ChatRecord): void {
    const over = c.messages.length - this.options.maxMessages;
    if (over > 0) c.messages.splice(0, over);
  }

  async ping(): Promise<void> {}

  async snapshot(chatId: string, maxMessages: number): Promise<ChatSnapshot> {
    const c = this.chat(chatId, false);
    if (!c) return { messages: [], total: 0, turn: null, ev: 0 };
    const alive = this.leaseHolder(c) !== null;
    return {
      messages: maxMessages > 0 ? c.messages.slice(-maxMessages).map((m) => ({ ...m })) : [],
      total: c.messages.length,
      ev: c.ev,
      turn: c.turn ? { ...c.turn, text: c.text, leaseAlive: alive, stopRequested: c.turn.stop } : null,
    };
  }

  async recentMessages(chatId: string, maxChars: number): Promise<Message[]> {
    const c = this.chat(chatId, false);
    if (!c) return [];
    const out: Message[] = [];
    let chars = 0;
    for (let i = c.messages.length - 1; i >= 0 && chars < maxChars; i--) {
      out.push({ ...c.messages[i]! });
      chars += c.messages[i]!.text.length;
    }
    return out.reverse();
  }

  async beginTurn(
    chatId: string,
    begin: BeginSend | BeginRegenerate,
    turn: { turnId: string; owner: string },
  ): Promise<BeginResult> {
    const c = this.chat(chatId, true)!;
    const existing = c.idem.get(begin.clientMsgId);
    if (existing) return { kind: 'duplicate', messageId: existing };
    if (c.turn) return this.leaseHolder(c) ? { kind: 'busy' } : { kind: 'orphan' };
    let replyTo = '';
    let replaces: string | null = null;
    if (begin.kind === 'send') {
      c.messages.push({ ...begin.message });
      this.trim(c);
      replyTo = begin.message.id;
    } else {
      for (let i = c.messages.length - 1; i >= 0; i--) {
        const m = c.messages[i]!;
        if (m.role === 'user') {
          replyTo = m.id;
          break;
        }
        if (i === c.messages.length - 1) replaces = m.id;
      }
      if (!replyTo) return { kind: 'nothing' };
    }
    c.idem.set(begin.clientMsgId, replyTo);
    c.text = '';
    c.turn = { turnId: turn.turnId, replyTo, replaces, seq: 0, owner: turn.owner, stop: false };
    c.lease = { turnId: turn.turnId, expiresAt: this.now() + this.options.leaseMs };
    this.pub(chatId, c, { type: 'start', chatId, turnId: turn.turnId, replyTo, replaces });
    return { kind: 'started', messageId: replyTo, replyTo, replaces };
  }

  async appendDelta(chatId: string, turnId: string, text: string): Promise<{ signal: TurnSignal; seq: number }> {
    const c = this.chat(chatId, false);
    if (!c || !c.turn || this.leaseHolder(c) !== turnId) return { signal: 'fenced', seq: 0 };
    c.turn.seq += 1;
    c.text += text;
    const seq = c.turn.seq;
    this.pub(chatId, c, { type: 'delta', chatId, turnId, seq, text });
    return { signal: c.turn.stop ? 'stop' : 'ok', seq };
  }

  async renewLease(chatId: string, turnId: string): Promise<TurnSignal> {
    const c = this.chat(chatId, false);
    if (!c || !c.turn || this.leaseHolder(c) !== turnId) return 'fenced';
    c.lease = { turnId, expiresAt: this.now() + this.options.leaseMs };
    return c.turn.stop ? 'stop' : 'ok';
  }

  async endTurn(chatId: string, end: EndTurn): Promise<boolean> {
    const c = this.chat(chatId, false);
    if (!c) return false;
    if (end.mode === 'owner') {
      if (this.leaseHolder(c) !== end.turnId) return false;
    } else if (c.turn?.turnId !== end.turnId || this.leaseHolder(c) !== null) {
      return false;
    }
    if (end.message) {
      const last = c.messages[c.messages.length - 1];
      if (end.replaces && last?.id === end.replaces) c.messages[c.messages.length - 1] = { ...end.message };
      else {
        c.messages.push({ ...end.message });
        this.trim(c);
      }
    }
    c.turn = null;
    c.text = '';
    c.lease = null;
    this.pub(chatId, c, end.frame);
    return true;
  }

  async releaseTurn(chatId: string, turnId: string): Promise<void> {
    const c = this.chat(chatId, false);
    if (!c || this.leaseHolder(c) !== turnId) return;
    c.lease = null;
    this.emit(chatId, { ev: 0, control: 'handover', turnId });
  }

  async takeOver(
    chatId: string,
    oldTurnId: string,
    turn: { turnId: string; owner: string },
  ): Promise<StoredTurn | null> {
    const c = this.chat(chatId, false);
    if (!c || !c.turn || c.turn.turnId !== oldTurnId || this.leaseHolder(c) !== null) return null;
    c.turn = { ...c.turn, turnId: turn.turnId, owner: turn.owner, seq: 0, stop: false };
    c.text = '';
    c.lease = { turnId: turn.turnId, expiresAt: this.now() + this.options.leaseMs };
    this.pub(chatId, c, {
      type: 'start',
      chatId,
      turnId: turn.turnId,
      replyTo: c.turn.replyTo,
      replaces: c.turn.replaces,
    });
    return { ...c.turn, text: '', leaseAlive: true, stopRequested: false };
  }

  async requestStop(chatId: string): Promise<string | null> {
    const c = this.chat(chatId, false);
    if (!c?.turn) return null;
    c.turn.stop = true;
    this.emit(chatId, { ev: 0, control: 'stop', turnId: c.turn.turnId });
    return c.turn.turnId;
  }

  async subscribe(chatId: string, listener: (envelope: LiveEnvelope) => void): Promise<() => void> {
    let set = this.listeners.get(chatId);
    if (!set) {
      set = new Set();
      this.listeners.set(chatId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(chatId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(chatId);
    };
  }

  onResubscribed(): void {
    // The in-process channel is never lost.
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.listeners.clear();
  }
}
