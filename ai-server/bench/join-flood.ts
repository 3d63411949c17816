/**
 * A flood of joins from one client must not slow another client's messages: this script
 * measures another client's `ack` p99 with and without the flood and reports the ratio.
 *
 *   npx tsx bench/join-flood.ts           # 200 sends per phase (under ~1 min)
 *   npx tsx bench/join-flood.ts --quick   # 80 sends per phase (under ~20 s), for CI
 *
 * A real `redis-server` (the test kit's) and one ai-server process (`node dist/main.js`,
 * run `npm run build` first) on loopback, behind a pretend proxy (`TRUST_PROXY=1`, each
 * client named by its `X-Forwarded-For`). A chat is seeded with more history than one
 * `history` frame holds. The flooder (a process of its own) holds 50 sockets, each sending its next `join` of
 * that chat as soon as the previous one is answered (history or error), for the whole
 * measured phase. The victim sends one message at a time, each in a new chat, and times
 * send → ack (then leaves the chat, as the page does). Message rate limits are set off (RATE_LIMIT_PER_MINUTE=0,
 * CHAT_RATE_LIMIT_PER_MINUTE=0) so the victim's sends are never refused; the read limit
 * and connection caps keep their defaults: they are what is measured. Exits 1 when the
 * flood p99 is over 2× the quiet p99 and also over the quiet p99 + 25 ms (a few ms on a
 * shared 2-core box is noise, not a regression), or on any failed send.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import WebSocket from 'ws';
import { messageText } from '@ai-chat/testkit/ws-client';
import type { Message } from '@ai-chat/protocol';
import { startRedisServer } from '@ai-chat/testkit/redis-server';
import { startReplica } from '@ai-chat/testkit/replica';
import { newChatId, newMsgId } from '@ai-chat/testkit/replica-in-process';
import { RedisChatStore } from '../src/store/redis-store.js';

const QUICK = process.argv.includes('--quick');
const SENDS = QUICK ? 80 : 200;
const FLOOD_SOCKETS = 50;
const SEEDED_MESSAGES = Number(process.env.SEEDED ?? 400);
const WATCHDOG_MS = QUICK ? 60_000 : 180_000;
const RATIO_LINE = 2;
const NOISE_MS = 25;

interface Frame {
  type?: string;
  [key: string]: unknown;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function open(url: string, forwardedFor: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { 'x-forwarded-for': forwardedFor } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** The victim's sends, one at a time, each in a new chat: send → ack times in ms. */
async function victimRun(ws: WebSocket, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const clientMsgId = newMsgId();
    const chatId = newChatId();
    const started = performance.now();
    const answer = await new Promise<Frame>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        const frame = JSON.parse(messageText(data)) as Frame;
        if (frame.clientMsgId !== clientMsgId || (frame.type !== 'ack' && frame.type !== 'error')) return;
        ws.off('message', onMessage);
        resolve(frame);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ type: 'send', chatId, clientMsgId, text: `message ${i}` }));
    });
    if (answer.type !== 'ack') throw new Error(`victim send ${i} failed: ${JSON.stringify(answer)}`);
    times.push(performance.now() - started);
    // As the page does when it moves on: a socket joins at most MAX_CHATS_PER_SOCKET chats.
    ws.send(JSON.stringify({ type: 'leave', chatId }));
  }
  return times;
}

/** The flooder: FLOOD_SOCKETS sockets of one client, each joining again as soon as answered. */
async function flood(url: string, chatId: string): Promise<void> {
  let answers = 0;
  let histories = 0;
  let refusals = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < FLOOD_SOCKETS; i++) {
    const ws = await open(url, '192.0.2.66');
    sockets.push(ws);
    // Only the head of each answer is looked at: the flooder spends as little as it can.
    ws.on('message', (data: Buffer) => {
      const head = data.subarray(0, 40).toString('latin1');
      answers += 1;
      if (head.startsWith('{"type":"history"')) histories += 1;
      else if (head.startsWith('{"type":"error","code":"rate_limited"')) refusals += 1;
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'join', chatId }));
    });
  }
  for (const ws of sockets) ws.send(JSON.stringify({ type: 'join', chatId }));
  console.log('flooding');
  const end = () => {
    for (const ws of sockets) ws.terminate();
    console.log(`${answers} ${histories} ${refusals}`);
    process.exit(0);
  };
  process.on('SIGTERM', end);
  setTimeout(end, WATCHDOG_MS).unref();
  await new Promise(() => undefined);
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`join-flood: watchdog after ${WATCHDOG_MS} ms`);
    process.exit(1);
  }, WATCHDOG_MS);
  const redis = await startRedisServer();
  const replica = await startReplica({
    REDIS_URL: redis.url,
    TRUST_PROXY: '1',
    RATE_LIMIT_PER_MINUTE: '0',
    CHAT_RATE_LIMIT_PER_MINUTE: '0',
    READ_RATE_LIMIT_PER_SECOND: undefined,
    LOG_LEVEL: 'warn',
    NODE_OPTIONS: process.env.PROF ? '--cpu-prof --cpu-prof-dir=/tmp/limits-prof' : undefined,
  });
  const sockets: WebSocket[] = [];
  try {
    // A chat with more than one history frame holds (400 × ~2 KB > 512 KiB).
    const seeder = new RedisChatStore({ url: redis.url, ttlSeconds: 3600, maxMessages: 10_000, leaseMs: 5000, logger: pino({ level: 'silent' }) });
    const chatId = newChatId();
    for (let i = 0; i < SEEDED_MESSAGES; i += 2) {
      const q: Message = { id: `mq${i}`, role: 'user', text: 'q'.repeat(1500), createdAt: Date.now(), status: 'complete' };
      const a: Message = { id: `ma${i}`, role: 'model', text: '답'.repeat(500), createdAt: Date.now(), status: 'complete' };
      await seeder.beginTurn(chatId, { kind: 'send', clientMsgId: `seed-${i}-xxxxxx`, message: q }, { turnId: `t${i}`, owner: 'seed' });
      await seeder.endTurn(chatId, { turnId: `t${i}`, mode: 'owner', message: a, replaces: null, frame: { type: 'done', chatId, turnId: `t${i}`, messageId: a.id, reply: '', finishReason: 'stop' } });
    }
    await seeder.close();

    const victim = await open(replica.url, '192.0.2.1');
    sockets.push(victim);
    await victimRun(victim, 10); // warm-up
    const quiet = await victimRun(victim, SENDS);

    // The flooder runs in a process of its own, so its work is not in the victim's times.
    const flooder = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), FLOODER_FLAG, replica.url, chatId], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const report = new Promise<string>((resolve) => {
      let out = '';
      flooder.stdout.on('data', (d: Buffer) => (out += d.toString()));
      flooder.on('close', () => resolve(out.trim()));
    });
    await new Promise<void>((resolve) => flooder.stdout.once('data', () => resolve()));
    const flooded = await victimRun(victim, SENDS);
    flooder.kill('SIGTERM');
    const [floodAnswers = 0, histories = 0, refusals = 0] = (await report).split('\n').at(-1)!.split(' ').map(Number);

    const q99 = pct(quiet, 99);
    const f99 = pct(flooded, 99);
    const ratio = f99 / q99;
    console.log(`join-flood: message rate limits off (RATE_LIMIT_PER_MINUTE=0, CHAT_RATE_LIMIT_PER_MINUTE=0); read limit and caps at their defaults`);
    console.log(`join-flood: ${FLOOD_SOCKETS} flood sockets of one client, ${floodAnswers} joins answered (${histories} history frames, ${refusals} rate_limited)`);
    console.log(`join-flood: victim ack p50 ${pct(quiet, 50).toFixed(1)} ms → ${pct(flooded, 50).toFixed(1)} ms; p99 ${q99.toFixed(1)} ms → ${f99.toFixed(1)} ms (${ratio.toFixed(2)}x, ${SENDS} sends each)`);
    const pass = ratio <= RATIO_LINE || f99 <= q99 + NOISE_MS;
    console.log(`join-flood: ${pass ? 'PASS' : 'FAIL'} (line: p99 ratio ≤ ${RATIO_LINE}x, or within ${NOISE_MS} ms of the quiet p99)`);
    if (!pass) process.exitCode = 1;
  } finally {
    for (const ws of sockets) ws.terminate();
    await replica.stop();
    await redis.stop();
    clearTimeout(watchdog);
  }
}

const FLOODER_FLAG = '--flooder';
const flooderAt = process.argv.indexOf(FLOODER_FLAG);
if (flooderAt >= 0) await flood(process.argv[flooderAt + 1]!, process.argv[flooderAt + 2]!);
else await main();
