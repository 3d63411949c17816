import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_SYSTEM_PROMPT, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has the documented defaults and is frozen', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3001,
      redisUrl: undefined,
      geminiApiKey: undefined,
      geminiModel: 'gemini-2.5-flash',
      systemPrompt: DEFAULT_SYSTEM_PROMPT,
      contextMaxChars: 200_000,
      llmIdleTimeoutMs: 30_000,
      maxMessageChars: 8000,
      maxReplyChars: 100_000,
      maxFrameBytes: 12 * 8000 + 4096,
      chatTtlSeconds: 2_592_000,
      chatMaxMessages: 10_000,
      turnLeaseMs: 5000,
      heartbeatIntervalMs: 30_000,
      trustProxy: 0,
      shutdownGraceMs: 10_000,
      maxBufferedBytes: 4 * 1024 * 1024,
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes DATA_DIR from the repository root (default: data there); refuses a file', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
    expect(loadConfig({}).dataDir).toBe(`${root}/data`);
    expect(loadConfig({ DATA_DIR: 'var/chats' }).dataDir).toBe(`${root}/var/chats`);
    expect(loadConfig({ DATA_DIR: '/srv/chat-data' }).dataDir).toBe('/srv/chat-data');
    const file = fileURLToPath(import.meta.url);
    expect(() => loadConfig({ DATA_DIR: file })).toThrow(/DATA_DIR: .* is not a directory/);
  });

  it('sizes the frame cap for a maximal message, within 1 MiB', () => {
    const c = loadConfig({ MAX_MESSAGE_CHARS: '65536' });
    expect(c.maxFrameBytes).toBe(12 * 65536 + 4096);
    expect(c.maxFrameBytes).toBeLessThanOrEqual(1024 * 1024);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({ PORT: 'abc', MAX_MESSAGE_CHARS: '70000', REDIS_URL: 'http://x', LOG_LEVEL: 'loud', TURN_LEASE_MS: '-1' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      for (const key of ['PORT', 'MAX_MESSAGE_CHARS', 'REDIS_URL', 'LOG_LEVEL', 'TURN_LEASE_MS']) expect(problems).toContain(key);
    }
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together; parses the cluster seeds', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:1' })).toThrow(ConfigError);
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000, r2:7001' }).redisClusterNodes).toEqual([
      { host: 'r1', port: 7000 },
      { host: 'r2', port: 7001 },
    ]);
  });

  it('splits ALLOWED_ORIGINS and treats empty values as unset', () => {
    const c = loadConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example/', GEMINI_API_KEY: '  ' });
    expect(c.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.geminiApiKey).toBeUndefined();
  });

  it('chooses the model family from the keys set, or from LLM_PROVIDER', () => {
    expect(loadConfig({}).llmProvider).toBe('demo');
    expect(loadConfig({ GEMINI_API_KEY: 'k' }).llmProvider).toBe('gemini');
    const local = loadConfig({ OPENAI_BASE_URL: 'http://localhost:11434/v1', OPENAI_MODEL: 'llama3.2' });
    expect(local).toMatchObject({ llmProvider: 'openai', openaiBaseUrl: 'http://localhost:11434/v1', openaiApiKey: undefined, openaiModel: 'llama3.2' });
    expect(loadConfig({ OPENAI_API_KEY: 'sk', OPENAI_MODEL: 'gpt-4o-mini' }).llmProvider).toBe('openai');
    const both = { GEMINI_API_KEY: 'k', OPENAI_BASE_URL: 'http://localhost:11434/v1', OPENAI_MODEL: 'm' };
    expect(loadConfig({ ...both, LLM_PROVIDER: 'openai' }).llmProvider).toBe('openai');
    expect(loadConfig({ ...both, LLM_PROVIDER: 'gemini' }).llmProvider).toBe('gemini');
    expect(loadConfig({ ...both, LLM_PROVIDER: 'demo' }).llmProvider).toBe('demo');
  });

  it('refuses to start when both families are set and LLM_PROVIDER does not say which', () => {
    expect(() => loadConfig({ GEMINI_API_KEY: 'k', OPENAI_BASE_URL: 'http://localhost:11434/v1', OPENAI_MODEL: 'm' })).toThrow(
      /LLM_PROVIDER: both GEMINI_API_KEY and OPENAI_BASE_URL\/OPENAI_API_KEY are set/,
    );
  });

  it('refuses a chosen provider without what it needs, an unknown provider, and extra body that is not a JSON object', () => {
    expect(() => loadConfig({ LLM_PROVIDER: 'gemini' })).toThrow(/GEMINI_API_KEY: required/);
    expect(() => loadConfig({ OPENAI_BASE_URL: 'http://localhost:11434/v1' })).toThrow(/OPENAI_MODEL: required/);
    expect(() => loadConfig({ LLM_PROVIDER: 'openai', OPENAI_MODEL: 'm' })).toThrow(/OPENAI_BASE_URL: required/);
    expect(() => loadConfig({ LLM_PROVIDER: 'claude' })).toThrow(/LLM_PROVIDER/);
    expect(() => loadConfig({ OPENAI_EXTRA_BODY: '[1]' })).toThrow(/OPENAI_EXTRA_BODY: must be a JSON object/);
    expect(() => loadConfig({ OPENAI_EXTRA_BODY: '{oops' })).toThrow(/OPENAI_EXTRA_BODY/);
    expect(loadConfig({ OPENAI_EXTRA_BODY: '{"temperature":0.2}' }).openaiExtraBody).toEqual({ temperature: 0.2 });
  });
});
