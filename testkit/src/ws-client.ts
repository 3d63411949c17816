import WebSocket, { type RawData } from 'ws';

// Frames are checked field by field in the tests; `any` keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Frame { type?: string; [key: string]: any }

/**
 * A real `ws` client that records every frame, so tests can wait for one by type and
 * predicate. A failed wait names what it waited for and what did arrive.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void; from: number }[] = [];
  closeCode: number | null = null;
  private readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const frame = JSON.parse(messageText(data)) as Frame;
      this.frames.push(frame);
      const index = this.frames.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (index >= w.from && w.match(frame)) {
          w.resolve(frame);
          return false;
        }
        return true;
      });
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      });
    });
  }

  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits for the first frame (from index `from`, default: any so far) matching type and predicate. */
  waitFor(type: string, predicate: (f: Frame) => boolean = () => true, timeoutMs = 5000, from = 0): Promise<Frame> {
    const match = (f: Frame) => f.type === type && predicate(f);
    const found = this.frames.slice(from).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        const seen = this.frames.map((f) => (f.type === 'error' ? `error:${String(f.code)}` : f.type)).join(', ');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a "${type}" frame; got: [${seen}]`));
      }, timeoutMs);
      const done = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.waiters.push({ match, resolve: done, from });
    });
  }

  /** Waits for the next matching frame arriving after this call. */
  next(type: string, predicate?: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame> {
    return this.waitFor(type, predicate, timeoutMs, this.frames.length);
  }

  waitForClose(timeoutMs = 5000): Promise<number> {
    return Promise.race([
      this.closed,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('socket did not close')), timeoutMs)),
    ]);
  }

  /** The frames of one chat's turn, in arrival order. */
  turnFrames(turnId: string): Frame[] {
    return this.frames.filter((f) => f.turnId === turnId);
  }

  close(): void {
    this.ws.close();
  }
}

/** The text of a message as `ws` delivers it: one buffer, or its fragments. */
export function messageText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
