import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
// The kit starts ai-server from its sources, in this process: the one place outside
// ai-server that imports them.
import { createApp, type App } from '../../ai-server/src/app.js';
import { loadConfig, type Env } from '../../ai-server/src/config.js';
import type { ChatStore } from '../../ai-server/src/store/chat-store.js';
import { TestClient } from './ws-client.js';

/**
 * Tests send many messages from one address within seconds: the rate limits are off
 * unless a test sets them (`env`).
 */
export const RATE_LIMITS_OFF = {
  RATE_LIMIT_PER_MINUTE: '0',
  CHAT_RATE_LIMIT_PER_MINUTE: '0',
  READ_RATE_LIMIT_PER_SECOND: '0',
} as const;

export interface TestServer {
  app: App;
  url: string;
  httpUrl: string;
  port: number;
  /** A connected client that already said hello. */
  client(options?: { hello?: boolean; origin?: string }): Promise<TestClient>;
  close(): Promise<void>;
}

/**
 * An ai-server in this process on a free port: Redis at `redisUrl` (under a unique key
 * prefix) or the in-process store, the Gemini SDK pointed at `geminiBaseUrl`.
 */
export async function startTestServer(options: {
  redisUrl?: string;
  geminiBaseUrl?: string;
  env?: Env;
  store?: ChatStore;
  keyPrefix?: string;
  /** The server's logger (default: pino at LOG_LEVEL, silent in tests). */
  logger?: Logger;
}): Promise<TestServer> {
  const env: Env = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    STATIC_DIR: '',
    ...RATE_LIMITS_OFF,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.geminiBaseUrl ? { GEMINI_API_KEY: 'test-key', GEMINI_BASE_URL: options.geminiBaseUrl } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const app = createApp(config, {
    logger: options.logger ?? pino({ level: config.logLevel }),
    redisKeyPrefix: options.keyPrefix ?? `t${randomBytes(4).toString('hex')}:`,
    ...(options.store ? { store: options.store } : {}),
  });
  const address = await app.listen();
  const url = `ws://127.0.0.1:${address.port}/ws-chat`;
  const clients: TestClient[] = [];
  return {
    app,
    url,
    httpUrl: `http://127.0.0.1:${address.port}`,
    port: address.port,
    async client(opts = {}) {
      const c = await TestClient.connect(url, opts.origin ? { headers: { origin: opts.origin } } : {});
      clients.push(c);
      if (opts.hello !== false) {
        c.send({ type: 'hello', protocol: 1 });
        await c.waitFor('welcome');
      }
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await app.shutdown();
    },
  };
}

let counter = 0;
/** A fresh valid chatId per call. */
export function newChatId(): string {
  counter += 1;
  return `chat-${randomBytes(6).toString('hex')}-${counter}`;
}
export function newMsgId(): string {
  counter += 1;
  return `msg-${randomBytes(6).toString('hex')}-${counter}`;
}
