import type { Logger } from 'pino';
import WebSocket, { type RawData } from 'ws';
import { PROTOCOL_VERSION, type ServerFrame } from '@ai-chat/protocol';
import { AppError } from '../errors.js';
import { ChatService, errorFrame } from '../chat/chat-service.js';
import type { ClientSink, LegacyReply } from '../chat/client-sink.js';
import { FrameError, parseClientFrame } from '../protocol/parse.js';
import { metrics } from '../metrics/metrics.js';
import { frameBytes } from './frame-text.js';
import type { LegacyAdapter } from './legacy-adapter.js';
import type { RateLimits } from './limits.js';
import { LogBudget } from './log-budget.js';
import type { OutboundBudget } from './outbound-budget.js';

export interface ConnectionSettings {
  serverId: string;
  maxMessageChars: number;
  maxFrameBytes: number;
  maxBufferedBytes: number;
}

/** What limits a socket: its client address, the shared rate limits, the replica's outbound budget. */
export interface ConnectionLimits {
  client: string;
  rates: RateLimits;
  budget: OutboundBudget;
}

/** Frames one socket may have waiting to be handled; beyond it the socket is closed with 1013. */
const MAX_QUEUED_FRAMES = 256;

/** Close codes of protocol v1. */
export const CloseCode = {
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

/**
 * One client socket: parses and validates each frame, dispatches it to the chat service
 * (a legacy frame to the legacy adapter) in arrival order, and turns every failure into an `error` frame (the boundary).
 */
export class Connection implements ClientSink {
  /** Last time the peer showed it is alive (a frame or a pong). */
  lastSeen = Date.now();
  private queue: Promise<void> = Promise.resolve();
  /** Frames received and not handled yet. */
  private queued = 0;
  private closed = false;
  /** What this socket can make the server log is bounded, whatever it sends. */
  private readonly logBudget: LogBudget;

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
    private readonly service: ChatService,
    private readonly legacy: LegacyAdapter,
    private readonly settings: ConnectionSettings,
    private readonly log: Logger,
    private readonly limits: ConnectionLimits,
  ) {
    this.logBudget = new LogBudget(log);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.lastSeen = Date.now();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.limits.budget.remove(this);
      this.service.detach(this);
      this.logBudget.close();
      this.log.debug({ code }, 'socket closed');
    });
    ws.on('error', (err) => {
      // ws closes the socket itself (1009 for a frame over maxPayload); log once, quietly.
      this.logBudget.write('info', 'socket error', { err: err.message }, 'socket error');
    });
  }

  send(frame: ServerFrame | LegacyReply): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.settings.maxBufferedBytes) {
      this.logBudget.write('warn', 'slow reader', { bufferedAmount: this.ws.bufferedAmount }, 'reader too slow; closing');
      this.ws.close(CloseCode.tryAgainLater, 'reader too slow');
      return;
    }
    metrics.frameSent(frame);
    this.ws.send(frameBytes(frame), { binary: false });
    this.limits.budget.noteSent(this);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Closed by the replica's outbound budget: among the slowest readers while it is spent. */
  shed(): void {
    this.log.warn({ bufferedAmount: this.ws.bufferedAmount }, 'outbound budget spent; closing a slowest reader');
    this.close(CloseCode.tryAgainLater, 'server busy');
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason);
    }
  }

  terminate(): void {
    this.ws.terminate();
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.lastSeen = Date.now();
    if (isBinary) {
      this.send(errorFrame(new AppError('bad_request', 'Binary frames are not accepted; send JSON text.')));
      return;
    }
    if (this.queued >= MAX_QUEUED_FRAMES) {
      this.logBudget.write('warn', 'too many frames', { queued: this.queued }, 'client sends faster than it is served; closing');
      this.ws.close(CloseCode.tryAgainLater, 'too many frames');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    // Frames are handled one after another, so a join's history precedes what follows it.
    // Once the socket is gone, what it had queued is dropped.
    this.queued += 1;
    this.queue = this.queue.then(async () => {
      this.queued -= 1;
      if (!this.closed) await this.handle(text);
    });
  }

  private async handle(data: string): Promise<void> {
    let context: { chatId?: string; clientMsgId?: string } = {};
    try {
      const parsed = parseClientFrame(data, this.settings.maxMessageChars);
      if (parsed.kind === 'legacy') {
        context = { chatId: parsed.frame.chatId };
        await this.limits.rates.beforeMessage(this.limits.client, parsed.frame.chatId, null);
        await this.legacy.send(this, parsed.frame.chatId, parsed.frame.message);
        return;
      }
      const frame = parsed.frame;
      if ('chatId' in frame) context.chatId = frame.chatId;
      if ('clientMsgId' in frame) context.clientMsgId = frame.clientMsgId;
      switch (frame.type) {
        case 'hello':
          if (frame.protocol !== PROTOCOL_VERSION) {
            throw new AppError('bad_request', `Unsupported protocol ${frame.protocol}; this server speaks ${PROTOCOL_VERSION}.`);
          }
          this.send({
            type: 'welcome',
            protocol: PROTOCOL_VERSION,
            serverId: this.settings.serverId,
            model: this.service.model,
            limits: { maxMessageChars: this.settings.maxMessageChars, maxFrameBytes: this.settings.maxFrameBytes },
          });
          return;
        case 'join':
          await this.limits.rates.beforeRead(this.limits.client);
          await this.service.join(this, frame.chatId);
          return;
        case 'leave':
          this.service.leave(this, frame.chatId);
          return;
        case 'send':
          await this.limits.rates.beforeMessage(this.limits.client, frame.chatId, frame.clientMsgId);
          await this.service.send(this, frame.chatId, frame.clientMsgId, frame.text);
          return;
        case 'regenerate':
          await this.limits.rates.beforeMessage(this.limits.client, frame.chatId, frame.clientMsgId);
          await this.service.regenerate(this, frame.chatId, frame.clientMsgId);
          return;
        case 'stop':
          await this.service.stop(frame.chatId);
          return;
      }
    } catch (err) {
      if (err instanceof FrameError) {
        this.logBudget.write('info', `bad frame: ${err.code}`, { code: err.code }, 'bad frame');
        this.send(errorFrame(err, err.context));
        return;
      }
      if (!(err instanceof AppError)) this.logBudget.write('error', 'unexpected', { err }, 'frame handling failed');
      else if (err.code === 'internal' || err.code === 'store_unavailable') {
        const cause = err.cause instanceof Error ? err.cause.message : undefined;
        this.logBudget.write('warn', `frame failed: ${err.code}`, { code: err.code, err: err.message, cause }, 'frame failed');
      }
      this.send(errorFrame(err, context));
    }
  }
}
