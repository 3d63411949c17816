/**
 * Benchmark of the turn pipeline: ws client → ai-server → Gemini stub → store → ws client.
 *
 *   npx tsx bench/turns.ts           # fuller run (under ~2 min)
 *   npx tsx bench/turns.ts --quick   # small run (under ~20 s), for CI
 *
 * Everything runs on loopback on the same two cores: a real `redis-server` (the test
 * kit's, switched to `appendfsync everysec` as in redis/redis.conf), the project's Gemini
 * REST stub, and ai-servers in this process (`startTestServer`, the real SDK and `ws`).
 * The same load also runs against the in-process store (no REDIS_URL) in the same run, and
 * Redis is reported as a ratio of that baseline: absolute numbers on a shared 2-core box
 * mean little. Every turn on every socket is checked (ack before start, seq 1..n without a
 * gap, deltas concatenating to the `done` reply and to what the model sent); any failure
 * exits 1. Every loop is bounded, and a watchdog ends the run if something hangs.
 */
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { startGeminiStub, type GeminiStub } from '@ai-chat/testkit/gemini-stub';
import { startRedisServer, type RedisServerHandle } from '@ai-chat/testkit/redis-server';
import { newChatId, newMsgId, startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';

// ---- settings -----------------------------------------------------------------------

const QUICK = process.argv.includes('--quick');

interface Plan {
  /** Concurrent chats (one socket each) per configuration. */
  concurrency: number[];
  /** Sequential turns per chat, per concurrency. */
  turns: (c: number) => number;
  watchers: number;
  watcherTurns: number;
  /** Also run one configuration with the test kit's `appendfsync always`. */
  fsyncAlways: number | null;
  watchdogMs: number;
}

const PLAN: Plan = QUICK
  ? { concurrency: [1, 10, 50], turns: (c) => (c === 1 ? 8 : 4), watchers: 20, watcherTurns: 4, fsyncAlways: null, watchdogMs: 60_000 }
  : {
      concurrency: [1, 10, 50, 100],
      turns: (c) => (c === 1 ? 30 : c <= 10 ? 15 : 8),
      watchers: 20,
      watcherTurns: 15,
      fsyncAlways: 10,
      watchdogMs: 180_000,
    };

/** The model's answer: 40 pieces of a few words, 5 ms apart (~200 ms of streaming). */
const PIECES = Array.from({ length: 40 }, (_, i) => `조각 ${i + 1} piece of text `);
const EXPECTED_REPLY = PIECES.join('');
const STUB_DELAY_MS = 5;
const TURN_TIMEOUT_MS = 15_000;
/** A `busy` right after `done` would be a bug; a few retries keep the run going to report it. */
const MAX_BUSY_RETRIES = 20;

/** Load beyond what people do: rate limits and caps off. */
const SERVER_ENV = {
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_BURST: '0',
  CHAT_RATE_LIMIT_PER_MINUTE: '0',
  MAX_CONNECTIONS: '0',
  MAX_CONNECTIONS_PER_CLIENT: '0',
  READ_RATE_LIMIT_PER_SECOND: '0',
  MAX_CHATS_PER_SOCKET: '0',
  SHUTDOWN_GRACE_MS: '2000',
};

// ---- small utilities ----------------------------------------------------------------

interface Frame {
  type?: string;
  [key: string]: unknown;
}

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
const mean = (values: number[]) => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);
const ms = (v: number) => (Number.isNaN(v) ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '-');

class BenchFailure extends Error {}
const failures: string[] = [];
function fail(message: string): void {
  if (failures.length < 50) failures.push(message);
}

/** A `ws` socket that hands every text frame, with its arrival time, to one handler. */
class BenchSocket {
  onFrame: (frame: Frame, at: number) => void = () => undefined;
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const at = now();
      if (isBinary) {
        fail('a binary frame arrived');
        return;
      }
      // With the default binaryType ('nodebuffer') a text message arrives as one Buffer.
      this.onFrame(JSON.parse((data as Buffer).toString('utf8')) as Frame, at);
    });
    ws.on('close', () => (this.closed = true));
    ws.on('error', () => undefined);
  }

  static async open(url: string): Promise<BenchSocket> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BenchFailure(`socket to ${url} did not open`)), 5000);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const s = new BenchSocket(ws);
    await s.request({ type: 'hello', protocol: 1 }, 'welcome');
    return s;
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends a frame and waits for the first frame of `type` (5 s). */
  request(frame: unknown, type: string): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new BenchFailure(`no ${type} frame within 5 s`)), 5000);
      this.onFrame = (f) => {
        if (f.type !== type) return;
        clearTimeout(timer);
        this.onFrame = () => undefined;
        resolve(f);
      };
      this.send(frame);
    });
  }

  close(): void {
    if (!this.closed) this.ws.close();
  }
}

// ---- one turn ------------------------------------------------------------------------

interface TurnResult {
  turnId: string;
  sentAt: number;
  ackMs: number;
  firstDeltaMs: number;
  doneMs: number;
  deltas: { seq: number; text: string; at: number }[];
  busyRetries: number;
}

/** One send → ack → start → deltas → done on `sock`, checked frame by frame. */
function runTurn(sock: BenchSocket, chatId: string, label: string): Promise<TurnResult> {
  const clientMsgId = newMsgId();
  const text = `bench ${label}: 안녕하세요, answer me please`;
  return new Promise((resolve, reject) => {
    let sentAt = now();
    let ackAt = NaN;
    let messageId: string | null = null;
    let turnId: string | null = null;
    let firstAt = NaN;
    let busyRetries = 0;
    let reply = '';
    const deltas: TurnResult['deltas'] = [];
    const timer = setTimeout(() => finish(new BenchFailure(`${label}: no done within ${TURN_TIMEOUT_MS} ms (frames so far: ack=${messageId !== null}, start=${turnId !== null}, deltas=${deltas.length})`)), TURN_TIMEOUT_MS);
    const finish = (err: Error | null, result?: TurnResult) => {
      clearTimeout(timer);
      sock.onFrame = (f) => {
        if (f.type !== 'welcome') fail(`${label}: unexpected ${String(f.type)} frame after the turn ended`);
      };
      if (err) reject(err);
      else resolve(result!);
    };
    /** Takes one frame of the turn; returns what is wrong with it, or null. */
    const take = (f: Frame, at: number): string | null => {
      if (f.chatId !== chatId) return `frame of another chat: ${JSON.stringify(f).slice(0, 200)}`;
      switch (f.type) {
        case 'ack':
          if (f.clientMsgId !== clientMsgId || f.duplicate !== false || messageId !== null) return `unexpected ack ${JSON.stringify(f)}`;
          messageId = String(f.messageId);
          ackAt = at;
          return null;
        case 'start':
          if (messageId === null) return 'start before ack';
          if (f.replyTo !== messageId || turnId !== null) return `unexpected start ${JSON.stringify(f)}`;
          turnId = String(f.turnId);
          return null;
        case 'delta': {
          if (f.turnId !== turnId) return `delta of turn ${String(f.turnId)} before/without its start`;
          const seq = Number(f.seq);
          if (seq !== deltas.length + 1) return `delta seq ${seq} after ${deltas.length} (lost or reordered frame)`;
          if (deltas.length === 0) firstAt = at;
          deltas.push({ seq, text: String(f.text), at });
          reply += String(f.text);
          return null;
        }
        case 'done':
          if (f.turnId !== turnId) return 'done of another turn';
          if (f.finishReason !== 'stop') return `finishReason ${String(f.finishReason)}`;
          if (f.reply !== reply) return `the deltas (${reply.length} chars) do not add up to done.reply (${String(f.reply).length} chars)`;
          if (reply !== EXPECTED_REPLY) return 'reply differs from what the model sent';
          finish(null, {
            turnId: turnId!,
            sentAt,
            ackMs: ackAt - sentAt,
            firstDeltaMs: firstAt - sentAt,
            doneMs: at - sentAt,
            deltas,
            busyRetries,
          });
          return null;
        case 'error':
          if (f.code === 'busy' && messageId === null && busyRetries < MAX_BUSY_RETRIES) {
            busyRetries++;
            // Same clientMsgId again, as the protocol says; the first send time is kept.
            setTimeout(() => sock.send({ type: 'send', chatId, clientMsgId, text }), 10);
            return null;
          }
          return `error ${String(f.code)}: ${String(f.message)}`;
        default:
          return `unexpected frame ${String(f.type)}`;
      }
    };
    sock.onFrame = (f, at) => {
      const problem = take(f, at);
      if (problem !== null) finish(new BenchFailure(`${label}: ${problem}`));
    };
    sentAt = now();
    sock.send({ type: 'send', chatId, clientMsgId, text });
  });
}

// ---- measurements --------------------------------------------------------------------

interface RedisStats {
  /** Calls per command (commandstats, including the commands scripts call). */
  calls: Map<string, number>;
  cpuMs: number;
}

async function redisStats(r: Redis): Promise<RedisStats> {
  const info = await r.info('all'); // the default sections leave commandstats out
  const calls = new Map<string, number>();
  let cpuMs = 0;
  for (const line of info.split('\r\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) calls.set(m[1]!, Number(m[2]));
    const c = /^used_cpu_(sys|user):([\d.]+)/.exec(line);
    if (c) cpuMs += Number(c[2]) * 1000;
  }
  return { calls, cpuMs };
}

function callsDelta(a: RedisStats, b: RedisStats): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of b.calls) {
    if (k === 'info' || k.startsWith('config')) continue; // the benchmark's own
    const n = v - (a.calls.get(k) ?? 0);
    if (n > 0) d.set(k, n);
  }
  return d;
}

interface Row {
  name: string;
  store: 'memory' | 'redis';
  chats: number;
  turns: number;
  wallMs: number;
  ack: number[];
  first: number[];
  done: number[];
  deltasPerTurn: number;
  busy: number;
  nodeCpuMsPerTurn: number;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  redisCmdsPerTurn?: number;
  redisScriptsPerTurn?: number;
  redisPublishPerTurn?: number;
  redisCpuMsPerTurn?: number;
  commandMix?: string;
}

const LOOP_RESOLUTION_MS = 5;
/** Event-loop delay of this process (clients, stub and servers share it); the histogram counts the resolution too. */
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();

/** C chats, one socket each, K sequential turns each, all at once. */
async function runLoad(name: string, server: TestServer, store: Row['store'], chats: number, turnsPerChat: number, redis: Redis | null): Promise<Row> {
  const sockets = await Promise.all(Array.from({ length: chats }, () => BenchSocket.open(server.url)));
  const results: TurnResult[] = [];
  const before = redis ? await redisStats(redis) : null;
  const cpu0 = process.cpuUsage();
  loopDelay.reset();
  const t0 = now();
  try {
    await Promise.all(
      sockets.map(async (sock, i) => {
        const chatId = newChatId();
        for (let k = 0; k < turnsPerChat; k++) results.push(await runTurn(sock, chatId, `${name}/${store} chat ${i} turn ${k + 1}`));
      }),
    );
  } finally {
    for (const s of sockets) s.close();
  }
  const wallMs = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = redis ? await redisStats(redis) : null;
  const n = results.length;
  const row: Row = {
    name,
    store,
    chats,
    turns: n,
    wallMs,
    ack: results.map((r) => r.ackMs),
    first: results.map((r) => r.firstDeltaMs),
    done: results.map((r) => r.doneMs),
    deltasPerTurn: mean(results.map((r) => r.deltas.length)),
    busy: results.reduce((a, r) => a + r.busyRetries, 0),
    nodeCpuMsPerTurn: (cpu.user + cpu.system) / 1000 / n,
    loopDelayMaxMs: Math.max(0, loopDelay.max / 1e6 - LOOP_RESOLUTION_MS),
    loopDelayP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
  };
  if (before && after) {
    const d = callsDelta(before, after);
    const total = [...d.values()].reduce((a, b) => a + b, 0);
    row.redisCmdsPerTurn = total / n;
    row.redisScriptsPerTurn = ((d.get('evalsha') ?? 0) + (d.get('eval') ?? 0)) / n;
    row.redisPublishPerTurn = (d.get('publish') ?? 0) / n;
    row.redisCpuMsPerTurn = (after.cpuMs - before.cpuMs) / n;
    row.commandMix = [...d.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${(v / n).toFixed(1)}`)
      .join(', ');
  }
  // Let the sockets' closes settle before the next configuration is timed.
  await sleep(100);
  return row;
}

interface WatchResult {
  turns: number;
  watchers: number;
  framesChecked: number;
  producerFirst: number[];
  producerDone: number[];
  watcherFirst: number[];
  watcherDone: number[];
  /** Per delta: watcher arrival − producer arrival. */
  lag: number[];
  wallMs: number;
}

/** One producer on server A, W watchers joined on server B (same Redis), K turns. */
async function runWatchers(a: TestServer, b: TestServer, watcherCount: number, turns: number): Promise<WatchResult> {
  const chatId = newChatId();
  const producer = await BenchSocket.open(a.url);
  const watchers = await Promise.all(Array.from({ length: watcherCount }, () => BenchSocket.open(b.url)));
  interface Seen {
    turnId: string;
    start: number;
    deltas: { seq: number; text: string; at: number }[];
    done: number;
    reply: string | null;
  }
  const seen: Seen[][] = watchers.map(() => []);
  try {
    for (const w of watchers) {
      const history = await w.request({ type: 'join', chatId }, 'history');
      if (history.turn !== null) fail('watchers: history of a new chat has a turn');
    }
    watchers.forEach((w, i) => {
      const log = seen[i]!;
      /** Takes one frame a watcher sees; returns what is wrong with it, or null. */
      const take = (f: Frame, at: number): string | null => {
        if (f.chatId !== chatId) return 'frame of another chat';
        const cur = log.at(-1);
        switch (f.type) {
          case 'start':
            log.push({ turnId: String(f.turnId), start: at, deltas: [], done: NaN, reply: null });
            return null;
          case 'delta':
            if (!cur || cur.turnId !== f.turnId) return `delta of turn ${String(f.turnId)} without its start`;
            cur.deltas.push({ seq: Number(f.seq), text: String(f.text), at });
            return null;
          case 'done':
            if (!cur || cur.turnId !== f.turnId) return `done of turn ${String(f.turnId)} without its start`;
            cur.done = at;
            cur.reply = String(f.reply);
            return null;
          default:
            return `unexpected ${String(f.type)} frame: ${JSON.stringify(f).slice(0, 200)}`;
        }
      };
      w.onFrame = (f, at) => {
        const problem = take(f, at);
        if (problem !== null) fail(`watcher ${i}: ${problem}`);
      };
    });
    const t0 = now();
    const produced: TurnResult[] = [];
    for (let k = 0; k < turns; k++) {
      produced.push(await runTurn(producer, chatId, `watchers producer turn ${k + 1}`));
      // The watchers' done may trail the producer's: wait for it (bounded) before the next send.
      const deadline = now() + 5000;
      while (seen.some((log) => log.length <= k || Number.isNaN(log[k]!.done)) && now() < deadline) await sleep(2);
    }
    const wallMs = now() - t0;

    const out: WatchResult = {
      turns,
      watchers: watcherCount,
      framesChecked: 0,
      producerFirst: produced.map((p) => p.firstDeltaMs),
      producerDone: produced.map((p) => p.doneMs),
      watcherFirst: [],
      watcherDone: [],
      lag: [],
      wallMs,
    };
    seen.forEach((log, i) => {
      if (log.length !== produced.length) fail(`watcher ${i}: saw ${log.length} turns of ${produced.length}`);
      produced.forEach((p, k) => {
        const w = log[k];
        if (!w) return;
        if (w.turnId !== p.turnId) {
          fail(`watcher ${i} turn ${k + 1}: turnId ${w.turnId}, producer had ${p.turnId}`);
          return;
        }
        if (Number.isNaN(w.done)) {
          fail(`watcher ${i} turn ${k + 1}: no done`);
          return;
        }
        if (w.deltas.length !== p.deltas.length) fail(`watcher ${i} turn ${k + 1}: ${w.deltas.length} deltas, producer got ${p.deltas.length}`);
        w.deltas.forEach((d, j) => {
          const pd = p.deltas[j];
          if (d.seq !== j + 1) fail(`watcher ${i} turn ${k + 1}: delta ${j + 1} has seq ${d.seq} (out of order or lost)`);
          if (pd?.text !== d.text) fail(`watcher ${i} turn ${k + 1}: delta seq ${d.seq} differs from the producer's`);
          else out.lag.push(d.at - pd.at);
          out.framesChecked++;
        });
        if (w.reply !== EXPECTED_REPLY || w.deltas.map((d) => d.text).join('') !== EXPECTED_REPLY) fail(`watcher ${i} turn ${k + 1}: reply incomplete`);
        out.framesChecked += 2;
        if (w.deltas[0]) out.watcherFirst.push(w.deltas[0].at - p.sentAt);
        out.watcherDone.push(w.done - p.sentAt);
      });
    });
    return out;
  } finally {
    producer.close();
    for (const w of watchers) w.close();
    await sleep(100);
  }
}

// ---- output ---------------------------------------------------------------------------

function printRows(rows: Row[]): void {
  const header = ['case', 'store', 'C', 'turns', 'turns/s', 'ack p50/p95', 'first Δ p50/p95', 'done p50/p95', 'Δ/turn', 'busy', 'cmds/turn', 'node cpu ms/turn', 'loop p99/max'];
  const lines = rows.map((r) => [
    r.name,
    r.store,
    String(r.chats),
    String(r.turns),
    (r.turns / (r.wallMs / 1000)).toFixed(1),
    `${ms(pct(r.ack, 50))}/${ms(pct(r.ack, 95))}`,
    `${ms(pct(r.first, 50))}/${ms(pct(r.first, 95))}`,
    `${ms(pct(r.done, 50))}/${ms(pct(r.done, 95))}`,
    r.deltasPerTurn.toFixed(1),
    String(r.busy),
    r.redisCmdsPerTurn === undefined ? '-' : r.redisCmdsPerTurn.toFixed(1),
    r.nodeCpuMsPerTurn.toFixed(2),
    `${ms(r.loopDelayP99Ms)}/${ms(r.loopDelayMaxMs)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
}

function printRatios(pairs: [Row, Row][]): void {
  console.log('\nredis / memory (same load, same run; >1 = slower/more with Redis, turns/s <1 = fewer):');
  const header = ['case', 'C', 'turns/s', 'ack p50', 'ack p95', 'first Δ p50', 'first Δ p95', 'done p50', 'done p95', 'node cpu', 'redis cmds/turn (scripts, publish)', 'redis cpu ms/turn'];
  const lines = pairs.map(([m, r]) => [
    r.name,
    String(r.chats),
    ratio(r.turns / r.wallMs, m.turns / m.wallMs),
    ratio(pct(r.ack, 50), pct(m.ack, 50)),
    ratio(pct(r.ack, 95), pct(m.ack, 95)),
    ratio(pct(r.first, 50), pct(m.first, 50)),
    ratio(pct(r.first, 95), pct(m.first, 95)),
    ratio(pct(r.done, 50), pct(m.done, 50)),
    ratio(pct(r.done, 95), pct(m.done, 95)),
    ratio(r.nodeCpuMsPerTurn, m.nodeCpuMsPerTurn),
    `${r.redisCmdsPerTurn!.toFixed(1)} (${r.redisScriptsPerTurn!.toFixed(1)}, ${r.redisPublishPerTurn!.toFixed(1)})`,
    r.redisCpuMsPerTurn!.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
}

// ---- main -----------------------------------------------------------------------------

async function main(): Promise<number> {
  let redisHandle: RedisServerHandle | null = null;
  let stub: GeminiStub | null = null;
  let admin: Redis | null = null;
  const servers: TestServer[] = [];
  const watchdog = setTimeout(() => {
    console.log(`bench: FAILED: watchdog: the run did not finish within ${PLAN.watchdogMs / 1000} s`);
    void redisHandle?.kill().finally(() => process.exit(1));
    setTimeout(() => process.exit(1), 2000).unref();
  }, PLAN.watchdogMs);

  try {
    redisHandle = await startRedisServer();
    admin = new Redis(redisHandle.url, { maxRetriesPerRequest: 1 });
    // The kit's redis-server fsyncs every write (tests kill Redis); production runs everysec (redis/redis.conf).
    await admin.config('SET', 'appendfsync', 'everysec');
    stub = await startGeminiStub({ defaultScenario: { kind: 'text', pieces: PIECES, delayMs: STUB_DELAY_MS } });

    const mem = await startTestServer({ geminiBaseUrl: stub.baseUrl, env: SERVER_ENV });
    servers.push(mem);
    const keyPrefix = 'bench:';
    const redA = await startTestServer({ geminiBaseUrl: stub.baseUrl, redisUrl: redisHandle.url, keyPrefix, env: SERVER_ENV });
    servers.push(redA);
    const redB = await startTestServer({ geminiBaseUrl: stub.baseUrl, redisUrl: redisHandle.url, keyPrefix, env: SERVER_ENV });
    servers.push(redB);

    const maxSockets = Math.max(...PLAN.concurrency, PLAN.watchers + 1);
    console.log(`bench turns (${QUICK ? '--quick' : 'full'}): node ${process.version}, in-process ai-servers (memory store; Redis A+B sharing one redis-server, appendfsync everysec), Gemini stub: ${PIECES.length} pieces, ${STUB_DELAY_MS} ms apart`);
    console.log(`rate limits and connection caps: set off (RATE_LIMIT_PER_MINUTE=0, CHAT_RATE_LIMIT_PER_MINUTE=0, READ_RATE_LIMIT_PER_SECOND=0, MAX_CONNECTIONS=0, MAX_CONNECTIONS_PER_CLIENT=0, MAX_CHATS_PER_SOCKET=0): this measures the pipeline, not the limits`);
    console.log(`sockets: one per chat, C = ${PLAN.concurrency.join(', ')} at once (at most ${maxSockets} open at a time); watchers: 1 producer + ${PLAN.watchers} watchers`);

    // Warm-up (not reported): JIT, the SDK's HTTP pool, Redis script cache.
    await runLoad('warm-up', mem, 'memory', 5, 2, null);
    await runLoad('warm-up', redA, 'redis', 5, 2, admin);

    const rows: Row[] = [];
    const pairs: [Row, Row][] = [];
    for (const [i, c] of PLAN.concurrency.entries()) {
      const k = PLAN.turns(c);
      const name = `chats`;
      // Alternate which store goes first, so drift over the run hits both alike.
      let m: Row;
      let r: Row;
      if (i % 2 === 0) {
        m = await runLoad(name, mem, 'memory', c, k, null);
        r = await runLoad(name, redA, 'redis', c, k, admin);
      } else {
        r = await runLoad(name, redA, 'redis', c, k, admin);
        m = await runLoad(name, mem, 'memory', c, k, null);
      }
      rows.push(m, r);
      pairs.push([m, r]);
      stub.reset();
    }
    if (PLAN.fsyncAlways !== null) {
      const c = PLAN.fsyncAlways;
      await admin.config('SET', 'appendfsync', 'always');
      const r = await runLoad('fsync-always', redA, 'redis', c, PLAN.turns(c), admin);
      await admin.config('SET', 'appendfsync', 'everysec');
      const m = rows.find((x) => x.store === 'memory' && x.chats === c)!;
      rows.push(r);
      pairs.push([m, r]);
    }

    const w = await runWatchers(redA, redB, PLAN.watchers, PLAN.watcherTurns);

    console.log('');
    printRows(rows);
    printRatios(pairs);
    const mix = rows.find((r) => r.store === 'redis' && r.name === 'chats' && r.chats === 1)?.commandMix;
    if (mix) console.log(`redis commands per turn at C=1 (commandstats, incl. those run inside scripts): ${mix}`);

    console.log(`\nwatchers: 1 producer socket on server A, ${w.watchers} watcher sockets on server B (same Redis), ${w.turns} turns, ${w.framesChecked} watcher frames checked in order`);
    const wl = [
      ['', 'producer p50/p95', 'watchers p50/p95', 'ratio p50', 'ratio p95'],
      [
        'send → first Δ',
        `${ms(pct(w.producerFirst, 50))}/${ms(pct(w.producerFirst, 95))}`,
        `${ms(pct(w.watcherFirst, 50))}/${ms(pct(w.watcherFirst, 95))}`,
        ratio(pct(w.watcherFirst, 50), pct(w.producerFirst, 50)),
        ratio(pct(w.watcherFirst, 95), pct(w.producerFirst, 95)),
      ],
      [
        'send → done',
        `${ms(pct(w.producerDone, 50))}/${ms(pct(w.producerDone, 95))}`,
        `${ms(pct(w.watcherDone, 50))}/${ms(pct(w.watcherDone, 95))}`,
        ratio(pct(w.watcherDone, 50), pct(w.producerDone, 50)),
        ratio(pct(w.watcherDone, 95), pct(w.producerDone, 95)),
      ],
    ];
    const ww = wl[0]!.map((_, i) => Math.max(...wl.map((l) => l[i]!.length)));
    for (const l of wl) console.log(l.map((c, i) => c.padStart(ww[i]!)).join('  '));
    console.log(`per delta, watcher arrival − producer arrival: p50 ${ms(pct(w.lag, 50))} ms, p95 ${ms(pct(w.lag, 95))} ms, max ${ms(Math.max(...w.lag))} ms`);

    const busy = rows.reduce((a, r) => a + r.busy, 0);
    if (busy > 0) console.log(`note: ${busy} sends got busy right after the previous done and were retried`);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  } finally {
    clearTimeout(watchdog);
    for (const s of servers) await s.close().catch(() => undefined);
    await stub?.close().catch(() => undefined);
    await admin?.quit().catch(() => undefined);
    admin?.disconnect();
    await redisHandle?.stop().catch(() => undefined);
    loopDelay.disable();
  }
  if (failures.length > 0) {
    console.log(`\nbench: FAILED (${failures.length} problem${failures.length > 1 ? 's' : ''}):`);
    for (const f of failures) console.log(`  - ${f}`);
    return 1;
  }
  console.log('\nbench: ok');
  return 0;
}

process.exitCode = await main();
