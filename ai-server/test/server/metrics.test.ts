import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startRedisServer, type RedisServerHandle } from '@ai-chat/testkit/redis-server';
import { newChatId, newMsgId, startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';
import { sleep } from '@ai-chat/testkit/ws-client';

/** The value of one sample of /metrics' text, e.g. `aichat_turns_total{finish_reason="stop"}`; 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** The metric names /metrics declares (`# TYPE name kind`). */
function declared(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The metric names a PromQL expression reads: identifiers that are not functions, labels, keywords or ranges. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = [...stripped.matchAll(/(?<![\w:.])[A-Za-z_:][\w:]*(?![\w:]|\s*\()/g)].map((m) => m[0]);
  return names.filter((n) => !/^(?:and|or|unless|bool|offset)$/.test(n) && !/^\d/.test(n));
}

/** Whether `name` (a histogram's `_bucket`/`_sum`/`_count` series too) is declared. */
function exposes(types: Map<string, string>, name: string): boolean {
  if (types.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && types.get(base) === 'histogram';
}

async function scrape(server: TestServer): Promise<string> {
  const res = await fetch(`${server.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

describe('/metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: {} });
  });
  afterAll(async () => {
    await (server as TestServer | undefined)?.close();
  });

  it('counts sockets, turns, deltas, errors and times, and has the process metrics', async () => {
    const c = await server.client();
    const chatId = newChatId();
    c.send({ type: 'send', chatId, clientMsgId: newMsgId(), text: 'hello' });
    await c.waitFor('done', () => true, 10_000);
    c.send('not json');
    await c.waitFor('error');
    const text = await scrape(server);
    expect(sample(text, 'aichat_open_sockets')).toBe(1);
    expect(sample(text, 'aichat_turns_total{finish_reason="stop"}')).toBe(1);
    expect(sample(text, 'aichat_deltas_sent_total')).toBe(c.frames.filter((f) => f.type === 'delta').length);
    expect(sample(text, 'aichat_error_frames_total{code="bad_request"}')).toBe(1);
    expect(sample(text, 'aichat_time_to_first_token_seconds_count')).toBe(1);
    expect(sample(text, 'aichat_turn_duration_seconds_count')).toBe(1);
    const types = declared(text);
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes', 'process_cpu_seconds_total', 'aichat_takeovers_total', 'aichat_refusals_total']) {
      expect(types.has(name), name).toBe(true);
    }
    c.close();
    await c.waitForClose();
    await sleep(50);
    expect(sample(await scrape(server), 'aichat_open_sockets')).toBe(0);
  });

  it("every query of the Grafana dashboard reads a metric /metrics exposes, and every metric of ours is on it", async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../../grafana/ai-chat.json', import.meta.url), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const types = declared(await scrape(server));
    const used = new Set<string>();
    expect(dashboard.panels.length).toBeGreaterThan(0);
    for (const panel of dashboard.panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets ?? []) {
        const names = metricNames(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(exposes(types, name), `${panel.title}: ${name}`).toBe(true);
          used.add(name.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    const ours = [...types.keys()].filter((n) => n.startsWith('aichat_'));
    expect(ours.filter((n) => !used.has(n))).toEqual([]);
  });

  it('reads metric names out of PromQL', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, command) (rate(a_seconds_bucket{x="y"}[5m])))')).toEqual(['a_seconds_bucket']);
    expect(metricNames('max by (instance) (b_bytes) / 1048576 + c_total offset 5m + 2e3')).toEqual(['b_bytes', 'c_total']);
  });
});

describe('/metrics on Redis', () => {
  let redis: RedisServerHandle | null = null;
  let server: TestServer;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    redis = await startRedisServer().catch(() => null);
    if (!redis) return;
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    server = await startTestServer({ redisUrl: redis.url, logger });
  });
  afterAll(async () => {
    await (server as TestServer | undefined)?.close();
    await redis?.stop();
  });

  it('times Redis commands, and tells Redis out of memory apart: its own log line and metric', async (ctx) => {
    if (!redis) ctx.skip();
    const c = await server.client();
    c.send({ type: 'send', chatId: newChatId(), clientMsgId: newMsgId(), text: 'hello' });
    await c.waitFor('done', () => true, 10_000);
    let text = await scrape(server);
    expect(sample(text, 'aichat_redis_command_duration_seconds_count{command="chatBegin"}')).toBe(1);
    expect(sample(text, 'aichat_redis_out_of_memory_total')).toBe(0);

    const admin = new Redis(redis!.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      c.send({ type: 'send', chatId: newChatId(), clientMsgId: newMsgId(), text: 'hello again' });
      const err = await c.waitFor('error');
      expect(err).toMatchObject({ code: 'store_unavailable', retryable: true });
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
    text = await scrape(server);
    expect(sample(text, 'aichat_redis_out_of_memory_total')).toBe(1);
    expect(sample(text, 'aichat_redis_failures_total{kind="unavailable"}')).toBe(0);
    expect(lines.filter((l) => String(l.msg).startsWith('redis is out of memory'))).toHaveLength(1);
  });
});
