import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, type HistoryFrame } from '@ai-chat/protocol';
import { startGeminiStub, type GeminiStub } from '@ai-chat/testkit/gemini-stub';
import { sharedRedis } from '@ai-chat/testkit/redis-server';
import { startReplica, type ReplicaProcess } from '@ai-chat/testkit/replica';
import { newChatId, newMsgId } from '@ai-chat/testkit/replica-in-process';
import { sleep, TestClient, type Frame } from '@ai-chat/testkit/ws-client';

/**
 * Random sequences of valid and invalid frames from a few sockets on two replica
 * processes sharing one Redis, over a few chats. Afterwards: both processes alive, every
 * `error` code from the protocol's catalogue, no chat left locked (a last send in each is
 * acked and answered), and every acknowledged user message in its chat's history.
 *
 * The rate limits are off (the replica launcher's default): the sequences send dozens of
 * messages from one address within seconds, and the limits have their own tests.
 * The seed is fixed (FUZZ_SEED overrides it); a failure prints it with the failing
 * sequence, so it reproduces.
 */
const redis = await sharedRedis();
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_901);
const RUNS = 15;
/** Past this, the remaining runs are skipped (a loaded machine runs fewer sequences, never a longer suite). */
const TIME_LIMIT_MS = 40_000;
const MAX_MESSAGE_CHARS = 100;
const SOCKETS_PER_REPLICA = 2;
const CHATS = 3;
const CATALOGUE = Object.keys(ErrorCodes);

type Action =
  | { kind: 'send'; chat: number; text: string; resend: boolean }
  | { kind: 'regenerate' | 'stop' | 'join' | 'leave'; chat: number }
  | { kind: 'raw'; data: string }
  | { kind: 'binary'; bytes: Uint8Array }
  | { kind: 'oversized' }
  | { kind: 'pause'; ms: number };
interface Step {
  socket: number;
  action: Action;
}

const chat = fc.nat(CHATS - 1);
/** Frames a client may send by mistake or on purpose: not JSON, wrong types, bad ids, bad text. */
const rawFrame = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{"type":"send","chatId":5,"clientMsgId":"abcdefgh","text":"x"}',
    '{"type":"join","chatId":"short"}',
    '{"type":"send","chatId":"chat-0123456789abcdef","clientMsgId":"x","text":"x"}',
    '{"type":"send","chatId":"chat-0123456789abcdef","clientMsgId":"abcdefgh","text":"   "}',
    '{"type":"send","chatId":"chat-0123456789abcdef","clientMsgId":"abcdefgh","text":"x\\ud800y"}',
    '{"type":"dance"}',
    '{"type":["send"]}',
    '{"chatId":"chat-0123456789abcdef","message":42}',
    '[]',
    'null',
  ),
);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), chat, text: fc.string({ minLength: 1, maxLength: 30 }), resend: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('regenerate' as const, 'stop' as const, 'join' as const, 'leave' as const), chat }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('raw' as const), data: rawFrame }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('binary' as const), bytes: fc.uint8Array({ maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'oversized' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 1, max: 60 }) }) },
);
const steps = fc.array(fc.record({ socket: fc.nat(2 * SOCKETS_PER_REPLICA - 1), action }), { minLength: 10, maxLength: 40 });

describe.skipIf(!redis)('random frame sequences across two replica processes', () => {
  let stub: GeminiStub;
  let replicas: ReplicaProcess[] = [];
  const exits: string[] = [];
  const opened: TestClient[] = [];
  beforeAll(async () => {
    // Quick answers in a few paced pieces: turns end fast, yet long enough to meet a stop or a busy.
    stub = await startGeminiStub({ defaultScenario: { kind: 'echo', delayMs: 15 } });
    const env = {
      REDIS_URL: redis!.url,
      LLM_PROVIDER: 'gemini',
      GEMINI_API_KEY: 'test-key',
      GEMINI_BASE_URL: stub.baseUrl,
      MAX_MESSAGE_CHARS: String(MAX_MESSAGE_CHARS),
    };
    replicas = await Promise.all([startReplica(env), startReplica(env)]);
    replicas.forEach((r, i) => void r.exited.then((code) => exits.push(`replica ${String(i)} exited with ${String(code)}`)));
  }, 30_000);
  afterAll(async () => {
    for (const c of opened) c.close();
    for (const r of replicas) await r.stop();
    await (stub as GeminiStub | undefined)?.close();
    await redis?.stop();
  });

  const connect = async (replica: ReplicaProcess) => {
    const c = await TestClient.connect(replica.url);
    opened.push(c);
    c.send({ type: 'hello', protocol: 1 });
    await c.waitFor('welcome');
    return c;
  };

  it('never a crash, only catalogue codes, no chat left locked, no acknowledged message lost', async () => {
    await fc.assert(
      fc.asyncProperty(steps, async (sequence) => {
        const run = await runSequence(sequence);
        await checkOutcome(run);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)] },
    );
  }, 90_000);

  interface Run {
    chatIds: string[];
    sockets: TestClient[];
    /** Every socket used, the closed ones too: their frames count. */
    all: TestClient[];
    /** Sockets closed by the server on purpose (a frame over the cap). */
    closedOnPurpose: Set<TestClient>;
  }

  async function runSequence(sequence: Step[]): Promise<Run> {
    const chatIds = Array.from({ length: CHATS }, () => newChatId());
    const replicaOf = (socket: number) => replicas[socket % 2]!;
    const sockets = await Promise.all(Array.from({ length: 2 * SOCKETS_PER_REPLICA }, (_, i) => connect(replicaOf(i))));
    const run: Run = { chatIds, sockets, all: [...sockets], closedOnPurpose: new Set() };
    const sent: { chatId: string; clientMsgId: string; text: string }[] = [];
    for (const { socket, action: a } of sequence) {
      const c = sockets[socket]!;
      switch (a.kind) {
        case 'send': {
          const previous = sent.filter((s) => s.chatId === chatIds[a.chat]).at(-1);
          const frame = a.resend && previous ? previous : { chatId: chatIds[a.chat]!, clientMsgId: newMsgId(), text: a.text };
          sent.push(frame);
          c.send({ type: 'send', ...frame });
          break;
        }
        case 'regenerate':
          c.send({ type: 'regenerate', chatId: chatIds[a.chat], clientMsgId: newMsgId() });
          break;
        case 'stop':
        case 'join':
        case 'leave':
          c.send({ type: a.kind, chatId: chatIds[a.chat] });
          break;
        case 'raw':
          c.send(a.data);
          break;
        case 'binary':
          c.ws.send(Buffer.from(a.bytes));
          break;
        case 'oversized': {
          // Over the frame cap: the server closes the socket with 1009; the client opens a new one.
          c.send({ type: 'send', chatId: chatIds[0], clientMsgId: newMsgId(), text: 'x'.repeat(12 * MAX_MESSAGE_CHARS + 8192) });
          expect(await c.waitForClose(5000)).toBe(1009);
          run.closedOnPurpose.add(c);
          const fresh = await connect(replicaOf(socket));
          sockets[socket] = fresh;
          run.all.push(fresh);
          break;
        }
        case 'pause':
          await sleep(a.ms);
          break;
      }
    }
    return run;
  }

  async function checkOutcome(run: Run): Promise<void> {
    // No chat left locked: a last send in each, from either replica, is acked and answered
    // once the turns of the sequence end (busy until then, within a bound).
    for (const [i, chatId] of run.chatIds.entries()) {
      const c = await connect(replicas[i % 2]!);
      run.all.push(c);
      const clientMsgId = newMsgId();
      const text = `last ${randomBytes(4).toString('hex')}`;
      let ack: Frame | undefined;
      for (let attempt = 0; attempt < 50 && !ack; attempt++) {
        const from = c.frames.length;
        c.send({ type: 'send', chatId, clientMsgId, text });
        const answer = await Promise.race([
          c.waitFor('ack', (f) => f.clientMsgId === clientMsgId, 5000, from),
          c.waitFor('error', (f) => f.clientMsgId === clientMsgId, 5000, from),
        ]);
        if (answer.type === 'ack') ack = answer;
        else {
          expect(answer.code).toBe('busy');
          await sleep(200);
        }
      }
      expect(ack, `chat ${chatId} still busy after 50 tries`).toBeDefined();
      const start = await c.waitFor('start', (f) => f.chatId === chatId && f.replyTo === ack!.messageId, 10_000);
      await c.waitFor('done', (f) => f.turnId === start.turnId, 10_000);
    }

    // Both processes alive and ready.
    expect(exits).toEqual([]);
    for (const r of replicas) expect((await fetch(`${r.httpUrl}/readyz`)).status).toBe(200);

    // Only catalogue codes; no socket closed but those sent a frame over the cap.
    const frames = run.all.flatMap((c) => c.frames);
    for (const f of frames.filter((f) => f.type === 'error')) expect(CATALOGUE, JSON.stringify(f)).toContain(f.code);
    for (const c of run.all) if (!run.closedOnPurpose.has(c)) expect(c.closeCode).toBeNull();

    // Every acknowledged user message is in its chat's history (far below CHAT_MAX_MESSAGES:
    // retention trims nothing here).
    const reader = await connect(replicas[1]!);
    run.all.push(reader);
    for (const chatId of run.chatIds) {
      const from = reader.frames.length;
      reader.send({ type: 'join', chatId });
      const history = (await reader.waitFor('history', (f) => f.chatId === chatId, 5000, from)) as HistoryFrame;
      expect(history.truncated).toBe(false);
      expect(history.turn).toBeNull();
      const stored = new Set(history.messages.filter((m) => m.role === 'user').map((m) => m.id));
      const acked = frames.filter((f) => f.type === 'ack' && f.chatId === chatId).map((f) => f.messageId as string);
      for (const id of acked) expect(stored, `acknowledged message ${id} of chat ${chatId}`).toContain(id);
    }
    for (const c of run.all) c.close();
  }
});
