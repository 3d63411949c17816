import type { ServerFrame } from '@ai-chat/protocol';
import type { NetworkStatus, WebSocketLike } from '../lib/chat-socket';

/** A WebSocket double driven by the test: it records what the client sends and lets the test answer. */
export class FakeWebSocket implements WebSocketLike {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;

  readyState = FakeWebSocket.CONNECTING;
  readonly sent: string[] = [];
  closedWith: number | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('send on a socket that is not open');
    this.sent.push(data);
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = FakeWebSocket.CLOSED;
  }

  // ---- the test's side ----

  /** Frames the client sent, parsed. */
  frames(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
  types(): string[] {
    return this.frames().map((f) => String(f.type));
  }
  open(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({});
  }
  receive(frame: ServerFrame | Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  /** Opens and answers `hello`. */
  handshake(model = 'gemini-2.5-flash', maxMessageChars = 8000): void {
    this.open();
    this.receive({
      type: 'welcome',
      protocol: 1,
      serverId: 'test',
      model,
      limits: { maxMessageChars, maxFrameBytes: 12 * maxMessageChars + 4096 },
    });
  }
  /** The server (or the network) closes the connection. */
  drop(code = 1006): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code });
  }
}

/** Creates FakeWebSockets and keeps them in order. */
export function fakeSockets() {
  const all: FakeWebSocket[] = [];
  return {
    all,
    create: (url: string) => {
      const ws = new FakeWebSocket(url);
      all.push(ws);
      return ws;
    },
    last(): FakeWebSocket {
      const ws = all[all.length - 1];
      if (!ws) throw new Error('no socket was created');
      return ws;
    },
  };
}

/** A network whose online state the test switches. */
export function fakeNetwork(online = true): NetworkStatus & { set(online: boolean): void } {
  let state = online;
  const listeners = new Set<(online: boolean) => void>();
  return {
    isOnline: () => state,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    set(next) {
      state = next;
      for (const l of listeners) l(next);
    },
  };
}
