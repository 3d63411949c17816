import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { HISTORY_FRAME_BUDGET_BYTES, MAX_MESSAGE_CHARS_CEILING, maxFrameBytes } from '@ai-chat/protocol';
import { z } from 'zod';

/** The Korean assistant prompt of the original plan. */
export const DEFAULT_SYSTEM_PROMPT = `너는 유능한 AI 비서다.
사용자의 질문에 정확하고 친절하게 답한다.
한국어로 대화하되, 사용자가 영어로 물으면 영어로 답한다.
모르는 것은 모른다고 말한다.`;

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be a URL (${protocols.join(' or ')})` },
  );

const envSchema = z.object({
  NODE_ENV: optionalString,
  PORT: int(0, 65535).default(3001),
  HOST: optionalString,
  REDIS_URL: url(['redis:', 'rediss:']),
  REDIS_CLUSTER_NODES: optionalString.refine(
    (v) => v === undefined || v.split(',').every((n) => /^[^\s:]+:\d{1,5}$/.test(n.trim())),
    { error: 'must be host:port,host:port,…' },
  ),
  GEMINI_API_KEY: optionalString,
  GEMINI_MODEL: optionalString.transform((v) => v ?? 'gemini-2.5-flash'),
  GEMINI_BASE_URL: url(['http:', 'https:']),
  LLM_PROVIDER: optionalString.pipe(z.enum(['gemini', 'openai', 'demo']).optional()),
  OPENAI_BASE_URL: url(['http:', 'https:']),
  OPENAI_API_KEY: optionalString,
  OPENAI_MODEL: optionalString,
  OPENAI_EXTRA_BODY: optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object, e.g. {"temperature":0.2}' });
    return z.NEVER;
  }),
  SYSTEM_PROMPT: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? DEFAULT_SYSTEM_PROMPT : v)),
  CONTEXT_MAX_CHARS: int(1000).default(200_000),
  LLM_IDLE_TIMEOUT_MS: int(100).default(30_000),
  MAX_MESSAGE_CHARS: int(1, MAX_MESSAGE_CHARS_CEILING).default(8000),
  MAX_REPLY_CHARS: int(1).default(100_000),
  CHAT_TTL_SECONDS: int(60).default(2_592_000),
  CHAT_MAX_MESSAGES: int(2).default(10_000),
  TURN_LEASE_MS: int(300).default(5000),
  HEARTBEAT_INTERVAL_MS: int(100).default(30_000),
  ALLOWED_ORIGINS: optionalString.transform((v) =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((o) => o.trim().replace(/\/+$/, ''))
          .filter((o) => o !== ''),
  ),
  TRUST_PROXY: int(0, 10).default(0),
  STATIC_DIR: optionalString,
  DATA_DIR: optionalString,
  SHUTDOWN_GRACE_MS: int(0).default(10_000),
  RATE_LIMIT_PER_MINUTE: int(0).default(20),
  RATE_LIMIT_BURST: int(0).default(5),
  CHAT_RATE_LIMIT_PER_MINUTE: int(0).default(30),
  MAX_CONNECTIONS: int(0).default(10_000),
  MAX_CONNECTIONS_PER_CLIENT: int(0).default(50),
  MAX_BUFFERED_BYTES: int(HISTORY_FRAME_BUDGET_BYTES + 65_536).default(4 * 1024 * 1024),
  MAX_BUFFERED_BYTES_TOTAL: int(HISTORY_FRAME_BUDGET_BYTES + 65_536).default(64 * 1024 * 1024),
  READ_RATE_LIMIT_PER_SECOND: int(0).default(20),
  READ_RATE_LIMIT_BURST: int(0).default(40),
  MAX_CHATS_PER_SOCKET: int(0).default(100),
  AUTH_JWT_SECRET: optionalString,
  AUTH_JWKS_URL: url(['http:', 'https:']),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  SERVER_ID: optionalString,
});

export type Env = Record<string, string | undefined>;

/**
 * Every environment variable the server reads, with the value it takes when unset
 * (undefined: none), straight from the schema above.
 */
export const CONFIG_VARIABLES: ReadonlyMap<string, unknown> = new Map(
  Object.entries(envSchema.shape).map(([name, schema]) => {
    const unset = schema.safeParse(undefined);
    return [name, unset.success ? unset.data : undefined];
  }),
);

export interface Config {
  readonly port: number;
  readonly host: string | undefined;
  readonly serverId: string;
  readonly redisUrl: string | undefined;
  readonly redisClusterNodes: readonly { host: string; port: number }[] | undefined;
  readonly geminiApiKey: string | undefined;
  readonly geminiModel: string;
  readonly geminiBaseUrl: string | undefined;
  /** Which model family answers: from LLM_PROVIDER, else from the keys set. */
  readonly llmProvider: LlmProviderName;
  readonly openaiBaseUrl: string | undefined;
  readonly openaiApiKey: string | undefined;
  /** Set whenever `llmProvider` is `openai`. */
  readonly openaiModel: string | undefined;
  readonly openaiExtraBody: Readonly<Record<string, unknown>> | undefined;
  readonly systemPrompt: string;
  readonly contextMaxChars: number;
  readonly llmIdleTimeoutMs: number;
  readonly maxMessageChars: number;
  readonly maxReplyChars: number;
  /** Inbound frame cap: 12 × maxMessageChars + 4096 bytes, at most 1 MiB. */
  readonly maxFrameBytes: number;
  readonly chatTtlSeconds: number;
  readonly chatMaxMessages: number;
  readonly turnLeaseMs: number;
  readonly heartbeatIntervalMs: number;
  readonly allowedOrigins: readonly string[] | undefined;
  readonly trustProxy: number;
  readonly staticDir: string | undefined;
  /** Where the embedded store keeps chats when no Redis is configured (absolute). */
  readonly dataDir: string;
  readonly shutdownGraceMs: number;
  readonly rateLimitPerMinute: number;
  readonly rateLimitBurst: number;
  readonly chatRateLimitPerMinute: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  readonly maxBufferedBytes: number;
  readonly maxBufferedBytesTotal: number;
  readonly readRateLimitPerSecond: number;
  readonly readRateLimitBurst: number;
  readonly maxChatsPerSocket: number;
  readonly authJwtSecret: string | undefined;
  readonly authJwksUrl: string | undefined;
  readonly logLevel: string;
}

export type LlmProviderName = 'gemini' | 'openai' | 'demo';

/**
 * LLM_PROVIDER, or when unset the one family whose keys are set (`demo` when none).
 * Pushes a problem when the choice cannot be made or lacks what it needs.
 */
function chooseProvider(e: z.infer<typeof envSchema>, problems: string[]): LlmProviderName {
  const gemini = e.GEMINI_API_KEY !== undefined;
  const openai = e.OPENAI_BASE_URL !== undefined || e.OPENAI_API_KEY !== undefined;
  let provider: LlmProviderName;
  if (e.LLM_PROVIDER !== undefined) provider = e.LLM_PROVIDER;
  else if (gemini && openai) {
    problems.push('LLM_PROVIDER: both GEMINI_API_KEY and OPENAI_BASE_URL/OPENAI_API_KEY are set; set LLM_PROVIDER=gemini or LLM_PROVIDER=openai to say which answers');
    return 'demo';
  } else provider = gemini ? 'gemini' : openai ? 'openai' : 'demo';
  if (provider === 'gemini' && !gemini) problems.push('GEMINI_API_KEY: required with LLM_PROVIDER=gemini');
  if (provider === 'openai') {
    if (!openai) problems.push('OPENAI_BASE_URL: required with LLM_PROVIDER=openai (or OPENAI_API_KEY for api.openai.com)');
    if (e.OPENAI_MODEL === undefined) problems.push('OPENAI_MODEL: required with LLM_PROVIDER=openai (the model name the endpoint serves)');
  }
  return provider;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The repository root: dist/config.js or src/config.ts → ai-server/ → the root. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function defaultStaticDir(): string | undefined {
  const dir = resolve(REPO_ROOT, 'frontend', 'dist');
  return existsSync(resolve(dir, 'index.html')) ? dir : undefined;
}

/**
 * DATA_DIR, absolute. A relative one is taken from the repository root, like the default
 * `data`, so `npm start` (which runs in ai-server/) and `node ai-server/dist/main.js` from
 * the root use the same directory.
 */
function dataDir(value: string | undefined): string {
  return resolve(REPO_ROOT, value ?? 'data');
}

/**
 * Reads and validates the whole configuration once. Throws `ConfigError` listing every
 * problem at once; returns a frozen object that nothing else needs `process.env` for.
 */
export function loadConfig(env: Env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    problems.push('REDIS_URL and REDIS_CLUSTER_NODES: set one, not both');
  }
  // The newest message must always fit a history frame: 4 bytes per code point at most.
  if (4 * e.MAX_REPLY_CHARS + 16_384 > HISTORY_FRAME_BUDGET_BYTES) {
    problems.push(`MAX_REPLY_CHARS: at most ${Math.floor((HISTORY_FRAME_BUDGET_BYTES - 16_384) / 4)} (a reply must fit one history frame)`);
  }
  const llmProvider = chooseProvider(e, problems);
  const dir = dataDir(e.DATA_DIR);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    problems.push(`DATA_DIR: ${dir} exists and is not a directory`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    serverId: e.SERVER_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES?.split(',').map((n) => {
      const [host = '', port = '0'] = n.trim().split(':');
      return { host, port: Number(port) };
    }),
    geminiApiKey: e.GEMINI_API_KEY,
    geminiModel: e.GEMINI_MODEL,
    geminiBaseUrl: e.GEMINI_BASE_URL,
    llmProvider,
    openaiBaseUrl: e.OPENAI_BASE_URL,
    openaiApiKey: e.OPENAI_API_KEY,
    openaiModel: e.OPENAI_MODEL,
    openaiExtraBody: e.OPENAI_EXTRA_BODY,
    systemPrompt: e.SYSTEM_PROMPT,
    contextMaxChars: e.CONTEXT_MAX_CHARS,
    llmIdleTimeoutMs: e.LLM_IDLE_TIMEOUT_MS,
    maxMessageChars: e.MAX_MESSAGE_CHARS,
    maxReplyChars: e.MAX_REPLY_CHARS,
    maxFrameBytes: maxFrameBytes(e.MAX_MESSAGE_CHARS),
    chatTtlSeconds: e.CHAT_TTL_SECONDS,
    chatMaxMessages: e.CHAT_MAX_MESSAGES,
    turnLeaseMs: e.TURN_LEASE_MS,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    allowedOrigins: e.ALLOWED_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    staticDir: e.STATIC_DIR === undefined ? defaultStaticDir() : resolve(e.STATIC_DIR),
    dataDir: dir,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitBurst: e.RATE_LIMIT_BURST,
    chatRateLimitPerMinute: e.CHAT_RATE_LIMIT_PER_MINUTE,
    maxConnections: e.MAX_CONNECTIONS,
    maxConnectionsPerClient: e.MAX_CONNECTIONS_PER_CLIENT,
    maxBufferedBytes: e.MAX_BUFFERED_BYTES,
    maxBufferedBytesTotal: e.MAX_BUFFERED_BYTES_TOTAL,
    readRateLimitPerSecond: e.READ_RATE_LIMIT_PER_SECOND,
    readRateLimitBurst: e.READ_RATE_LIMIT_BURST,
    maxChatsPerSocket: e.MAX_CHATS_PER_SOCKET,
    authJwtSecret: e.AUTH_JWT_SECRET,
    authJwksUrl: e.AUTH_JWKS_URL,
    logLevel: e.LOG_LEVEL,
  };
  return Object.freeze(config);
}
