import { metrics } from '../metrics/metrics.js';

/** A socket as the budget sees it. */
export interface BufferedSocket {
  /** Bytes queued for the socket and not yet written out. */
  readonly bufferedAmount: number;
  /** Closes it (1013) to free its queue. */
  shed(): void;
}

/**
 * The replica's budget of outbound bytes queued over all sockets. Each send notes its
 * socket's queue; when the noted total is over the budget, the queues are measured again
 * and, while still over, the slowest readers (the longest queues) are shed. Noted queues
 * only shrink when measured, so the total is never under the truth.
 */
export class OutboundBudget {
  private readonly noted = new Map<BufferedSocket, number>();
  private total = 0;

  /** `maxBytes` 0: no budget. */
  constructor(private readonly maxBytes: number) {}

  noteSent(socket: BufferedSocket): void {
    if (this.maxBytes <= 0) return;
    this.set(socket, socket.bufferedAmount);
    if (this.total > this.maxBytes) this.enforce();
  }

  remove(socket: BufferedSocket): void {
    this.set(socket, 0);
    this.noted.delete(socket);
  }

  private set(socket: BufferedSocket, bytes: number): void {
    this.total += bytes - (this.noted.get(socket) ?? 0);
    if (bytes > 0) this.noted.set(socket, bytes);
    else this.noted.delete(socket);
  }

  private enforce(): void {
    for (const socket of [...this.noted.keys()]) this.set(socket, socket.bufferedAmount);
    if (this.total <= this.maxBytes) return;
    const slowest = [...this.noted.entries()].sort((a, b) => b[1] - a[1]);
    for (const [socket] of slowest) {
      if (this.total <= this.maxBytes) break;
      this.remove(socket);
      metrics.refused('buffer_budget');
      socket.shed();
    }
  }
}
