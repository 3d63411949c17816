import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HISTORY_FRAME_BUDGET_BYTES } from '@ai-chat/protocol';
import pino, { type Logger } from 'pino';
import { ChatService } from './chat/chat-service.js';
import type { Config } from './config.js';
import { DemoProvider } from './llm/demo-provider.js';
import { GeminiProvider } from './llm/gemini-provider.js';
import type { LlmProvider } from './llm/llm-provider.js';
import { OpenAiProvider } from './llm/openai-provider.js';
import { ChatHttpServer } from './server/http-server.js';
import type { ChatStore } from './store/chat-store.js';
import { EmbeddedChatStore } from './store/embedded-store.js';
import { RedisChatStore } from './store/redis-store.js';

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly store: ChatStore;
  readonly service: ChatService;
  readonly http: ChatHttpServer;
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: drain (sockets 1012, turns finish or are handed over), store closed. */
  shutdown(): Promise<void>;
}

export interface AppOverrides {
  logger?: Logger;
  store?: ChatStore;
  llm?: LlmProvider;
  /** Prefix of every Redis key (tests use a unique one). */
  redisKeyPrefix?: string;
}

export function createLogger(config: Config): Logger {
  return pino({
    level: config.logLevel,
    base: { serverId: config.serverId },
    // Message text and keys are never logged; these paths guard against a slip.
    redact: { paths: ['text', 'reply', 'message.text', 'apiKey', 'token', '*.apiKey'], censor: '[redacted]' },
  });
}

export interface StoreChoice {
  /** Prefix of every Redis key (tests use a unique one). */
  keyPrefix?: string;
  /** Without Redis: keep chats on disk in DATA_DIR (the server's entry point), not in memory. */
  onDisk?: boolean;
}

/**
 * The store the configuration asks for: Redis when REDIS_URL or REDIS_CLUSTER_NODES is set;
 * otherwise the embedded store, on disk in DATA_DIR with `onDisk`, in memory without (an
 * app built in-process, e.g. by tests). Throws, with a message naming the fix, when the
 * embedded store cannot be opened (DATA_DIR in use by another process, better-sqlite3
 * missing).
 */
export function createStore(config: Config, log: Logger, choice: StoreChoice = {}): ChatStore {
  const common = {
    ttlSeconds: config.chatTtlSeconds,
    maxMessages: config.chatMaxMessages,
    leaseMs: config.turnLeaseMs,
  };
  if (config.redisUrl || config.redisClusterNodes) {
    return new RedisChatStore({
      ...common,
      ...(config.redisUrl ? { url: config.redisUrl } : {}),
      ...(config.redisClusterNodes ? { clusterNodes: config.redisClusterNodes } : {}),
      ...(choice.keyPrefix ? { keyPrefix: choice.keyPrefix } : {}),
      logger: log.child({ component: 'store' }),
    });
  }
  if (!choice.onDisk) {
    log.warn('REDIS_URL is not set: conversations are kept in this process only (lost on restart; run one replica only)');
    return EmbeddedChatStore.open(':memory:', common);
  }
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (err) {
    throw new Error(`DATA_DIR: cannot create ${config.dataDir}: ${(err as Error).message}`, { cause: err });
  }
  const file = join(config.dataDir, 'chats.sqlite');
  const store = EmbeddedChatStore.open(file, common);
  log.warn(
    { dataDir: config.dataDir },
    `REDIS_URL is not set: conversations are kept in ${file} by this one process (a single replica only; set REDIS_URL to run several)`,
  );
  return store;
}

export function createLlm(config: Config, log: Logger): LlmProvider {
  if (config.llmProvider === 'gemini' && config.geminiApiKey) {
    return new GeminiProvider({
      apiKey: config.geminiApiKey,
      model: config.geminiModel,
      systemPrompt: config.systemPrompt,
      ...(config.geminiBaseUrl ? { baseUrl: config.geminiBaseUrl } : {}),
    });
  }
  if (config.llmProvider === 'openai' && config.openaiModel) {
    return new OpenAiProvider({
      baseUrl: config.openaiBaseUrl ?? 'https://api.openai.com/v1',
      model: config.openaiModel,
      systemPrompt: config.systemPrompt,
      ...(config.openaiApiKey ? { apiKey: config.openaiApiKey } : {}),
      ...(config.openaiExtraBody ? { extraBody: config.openaiExtraBody } : {}),
    });
  }
  log.warn('no model is configured (GEMINI_API_KEY, or OPENAI_BASE_URL and OPENAI_MODEL): answering with the offline demo model');
  return new DemoProvider({});
}

/**
 * Wires config → logger → store → llm → service → server. Nothing listens until `listen()`.
 * Without a store given, `createStore` without `onDisk`: with no Redis, chats stay in memory.
 */
export function createApp(config: Config, overrides: AppOverrides = {}): App {
  const log = overrides.logger ?? createLogger(config);
  const store = overrides.store ?? createStore(config, log, overrides.redisKeyPrefix ? { keyPrefix: overrides.redisKeyPrefix } : {});
  const llm = overrides.llm ?? createLlm(config, log);
  const service = new ChatService(
    store,
    llm,
    {
      serverId: config.serverId,
      historyBudgetBytes: HISTORY_FRAME_BUDGET_BYTES,
      contextMaxChars: config.contextMaxChars,
      maxReplyChars: config.maxReplyChars,
      maxMessageChars: config.maxMessageChars,
      llmIdleTimeoutMs: config.llmIdleTimeoutMs,
      leaseMs: config.turnLeaseMs,
      maxChatsPerSocket: config.maxChatsPerSocket,
    },
    log.child({ component: 'chat' }),
  );
  const http = new ChatHttpServer(config, service, store, log.child({ component: 'http' }));
  let shuttingDown: Promise<void> | null = null;

  return {
    config,
    log,
    store,
    service,
    http,
    listen: () => http.listen(config.port, config.host),
    shutdown() {
      shuttingDown ??= (async () => {
        http.beginDrain();
        await service.drain(config.shutdownGraceMs);
        await http.close();
        await store.close();
      })();
      return shuttingDown;
    },
  };
}
