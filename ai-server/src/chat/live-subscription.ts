import type { LiveFrame } from '@ai-chat/protocol';
import type { ChatStore, LiveEnvelope } from '../store/chat-store.js';

/**
 * One client's view of one chat's live frames. While a snapshot is being read the frames
 * are held; `release(ev)` then passes only those newer than the snapshot, so the client
 * sees no gap and no duplicate between its `history` and the live frames.
 */
export class LiveSubscription {
  private held: LiveEnvelope[] | null = null;
  private lastEv = 0;
  private unsubscribe: (() => void) | null = null;
  private closed = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: ChatStore,
    readonly chatId: string,
    private readonly deliver: (frame: LiveFrame) => void,
    /** Called for a `handover` control on the chat (never held: it is not a frame). */
    private readonly onHandover: (turnId: string) => void = () => undefined,
  ) {}

  /** Subscribes; with `hold`, frames wait for `release` or `resume`. */
  async open(hold: boolean): Promise<void> {
    if (hold) this.hold();
    const unsubscribe = await this.store.subscribe(this.chatId, (e) => this.onEnvelope(e));
    if (this.closed) unsubscribe();
    else this.unsubscribe = unsubscribe;
  }

  /** Holds frames until the next `release` or `resume` (a snapshot or an ack must go first). */
  hold(): void {
    this.held ??= [];
  }

  /**
   * Passes the held frames newer than `ev` (the snapshot's), then every new frame. With
   * null (no snapshot could be read) every held frame passes: a duplicate, which clients
   * drop by seq, is better than a gap. The snapshot's ev replaces the last one seen, so a
   * Redis that came back empty (counter reset) does not silence the chat.
   */
  release(ev: number | null): void {
    this.lastEv = ev ?? 0;
    this.resume();
  }

  /** Passes the held frames (those not seen yet), then every new frame. */
  resume(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const e of held) this.onEnvelope(e);
  }

  /** Delivers a frame that could not travel through the store (it is down). */
  inject(frame: LiveFrame): void {
    if (!this.closed) this.deliver(frame);
  }

  /** Runs `task` after the previous one of this subscription ended (snapshots never interleave). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    this.held = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private onEnvelope(e: LiveEnvelope): void {
    if (this.closed) return;
    if ('control' in e) {
      if (e.control === 'handover') this.onHandover(e.turnId);
      return;
    }
    if (this.held) {
      this.held.push(e);
      return;
    }
    if (e.ev <= this.lastEv) return;
    this.lastEv = e.ev;
    this.deliver(e.frame);
  }
}
