import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { ChatService } from '../chat/chat-service.js';
import { newId } from '../chat/ids.js';
import { metrics, registry } from '../metrics/metrics.js';
import type { ChatStore } from '../store/chat-store.js';
import { clientAddress } from './client-address.js';
import { ConnectionCaps, type ConnectionCapSettings } from './connection-caps.js';
import { CloseCode, Connection } from './connection.js';
import { LegacyAdapter } from './legacy-adapter.js';
import { RateLimits, type RateLimitSettings } from './limits.js';
import { originAllowed, type OriginPolicy } from './origin.js';
import { OutboundBudget } from './outbound-budget.js';
import { createStaticHandler } from './static-files.js';

export interface HttpServerSettings extends OriginPolicy, RateLimitSettings, ConnectionCapSettings {
  serverId: string;
  maxMessageChars: number;
  maxFrameBytes: number;
  maxBufferedBytes: number;
  heartbeatIntervalMs: number;
  staticDir: string | undefined;
  maxBufferedBytesTotal: number;
  /** A request's headers must have arrived within this (else 408); default `HEADERS_TIMEOUT_MS`. */
  headersTimeoutMs?: number;
}

/** How long a client may take to send a request's headers: slower is answered 408. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Largest request head accepted: larger is answered 431. */
export const MAX_HEADER_BYTES = 16_384;

const SOCKET_PATHS = new Set(['/ws-chat', '/ws-chat/', '/']);
/** How long /readyz waits for the store before answering 503. */
const READY_TIMEOUT_MS = 1000;

/**
 * The replica's HTTP face: the WebSocket upgrade at /ws-chat (and /), health endpoints,
 * and the built page. Refuses upgrades with an HTTP status before upgrading.
 */
export class ChatHttpServer {
  readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly serveStatic: ReturnType<typeof createStaticHandler> | null;
  private readonly legacy: LegacyAdapter;
  private readonly caps: ConnectionCaps;
  private readonly rates: RateLimits;
  private readonly budget: OutboundBudget;
  private heartbeat: NodeJS.Timeout | null = null;
  private draining = false;

  constructor(
    private readonly settings: HttpServerSettings,
    private readonly service: ChatService,
    private readonly store: ChatStore,
    private readonly log: Logger,
  ) {
    this.serveStatic = settings.staticDir ? createStaticHandler(settings.staticDir) : null;
    this.legacy = new LegacyAdapter(service);
    this.caps = new ConnectionCaps(settings);
    this.rates = new RateLimits(store, settings);
    this.budget = new OutboundBudget(settings.maxBufferedBytesTotal);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: settings.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    const headersTimeout = settings.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
    this.server = createServer(
      {
        headersTimeout,
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
        maxHeaderSize: MAX_HEADER_BYTES,
      },
      (req, res) => void this.onRequest(req, res),
    );
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    // Accept errors (EMFILE…) must not kill the process: log and go on.
    this.server.on('error', (err) => this.log.error({ err: err.message }, 'http server error'));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket));
  }

  async listen(port: number, host?: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.heartbeat = setInterval(() => this.beat(), this.settings.heartbeatIntervalMs);
    this.heartbeat.unref();
    return this.server.address() as AddressInfo;
  }

  /** Draining: /readyz 503, upgrades 503, every socket closed with 1012. */
  beginDrain(): void {
    this.draining = true;
    for (const c of this.connections) c.close(CloseCode.serviceRestart, 'server restarting');
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.connections) c.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private beat(): void {
    // A socket silent (no frame, no pong) for two intervals is gone.
    const deadline = Date.now() - 2 * this.settings.heartbeatIntervalMs;
    for (const c of this.connections) {
      if (c.lastSeen < deadline) {
        this.log.info({ connId: c.id }, 'socket missed its pongs; dropping');
        c.terminate();
      } else c.ping();
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = requestPath(req);
    const refuse = (status: number, text: string) => {
      // The socket may already be unwritable (the client went away); write what we can.
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
        );
      }
      socket.destroy();
    };
    if (!SOCKET_PATHS.has(path)) {
      refuse(404, 'Not Found');
      return;
    }
    if (this.draining) {
      refuse(503, 'Service Unavailable');
      return;
    }
    if (!originAllowed(req, this.settings)) {
      this.log.info({ origin: req.headers.origin }, 'upgrade refused: origin not allowed');
      refuse(403, 'Forbidden');
      return;
    }
    const client = clientAddress(req, this.settings.trustProxy);
    const capped = this.caps.refusal(client);
    if (capped) {
      metrics.refused(capped === 'replica' ? 'max_connections' : 'max_connections_per_client');
      this.log.info({ cap: capped }, capped === 'replica' ? 'upgrade refused: MAX_CONNECTIONS reached' : 'upgrade refused: MAX_CONNECTIONS_PER_CLIENT reached');
      refuse(503, 'Service Unavailable');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connId = newId('c');
      const log = this.log.child({ connId });
      const conn = new Connection(connId, ws, this.service, this.legacy, this.settings, log, {
        client,
        rates: this.rates,
        budget: this.budget,
      });
      this.connections.add(conn);
      metrics.socketOpened();
      this.caps.opened(client);
      ws.on('close', () => {
        this.connections.delete(conn);
        metrics.socketClosed();
        this.caps.closed(client);
      });
      if (this.draining) conn.close(CloseCode.serviceRestart, 'server restarting');
      log.debug('socket opened');
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = requestPath(req);
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      if (path === '/readyz') {
        const ready = !this.draining && (await this.storeAnswers());
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ status: ready ? 'ready' : this.draining ? 'draining' : 'store_unavailable' }));
        return;
      }
      if (path === '/metrics') {
        const body = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(body);
        return;
      }
      if (path === '/ws-chat' || path.startsWith('/ws-chat/')) {
        res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('Upgrade Required');
        return;
      }
      if (this.serveStatic && (await this.serveStatic(req, res, path))) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('Method Not Allowed');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found (the page is not built here)');
    } catch (err) {
      this.log.error({ err }, 'request failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  }

  private async storeAnswers(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    });
    const ping = this.store.ping().then(
      () => true,
      () => false,
    );
    const ok = await Promise.race([ping, timeout]);
    clearTimeout(timer);
    return ok;
  }
}

/** A malformed, too large (431) or too slow (408) request is answered, not dropped silently. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
    : err.code === 'ECONNRESET' ? null
    : '400 Bad Request';
  if (status && socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}

/** The request's path, without its query. */
function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
