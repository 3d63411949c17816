import type { Level, Logger } from 'pino';

/** Lines one socket may write for one reason; further ones are counted, not written. */
export const LINES_PER_REASON = 3;

/**
 * Bounds what one client can make the server log: for each reason, the first
 * `LINES_PER_REASON` lines are written, the rest only counted, and `close()` writes one
 * summary line with those counts. Whatever a socket sends, it writes at most
 * `LINES_PER_REASON` lines per reason and one more when it closes.
 */
export class LogBudget {
  private readonly written = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(private readonly log: Logger) {}

  write(level: Level, reason: string, fields: Record<string, unknown>, message: string): void {
    const n = this.written.get(reason) ?? 0;
    if (n < LINES_PER_REASON) {
      this.written.set(reason, n + 1);
      this.log[level]({ ...fields, reason }, n + 1 === LINES_PER_REASON ? `${message} (further lines of this reason are counted, not written)` : message);
      return;
    }
    this.suppressed.set(reason, (this.suppressed.get(reason) ?? 0) + 1);
  }

  /** One line with what was counted and not written, if anything was. */
  close(): void {
    if (this.suppressed.size === 0) return;
    this.log.warn({ suppressed: Object.fromEntries(this.suppressed) }, 'log lines suppressed for this socket');
    this.suppressed.clear();
  }
}
