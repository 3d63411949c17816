/**
 * The Gemini stub as a program, for a container on a test network (the Compose test):
 * listens on 0.0.0.0:$PORT (default 8080) and answers every request with the user
 * messages of its context, so a test can see which earlier turns the model was given:
 *
 *   `context: first | second | third`
 *
 * streamed in pieces of a few words, 50 ms apart. A last message that contains `slowly`
 * gets 30 more pieces, 300 ms apart (about 9 s): long enough to stop a replica mid-answer.
 */
import { startGeminiStub, type GeminiStubRequest, type GeminiStubScenario } from './gemini-stub.js';

function contextAnswer(request: Pick<GeminiStubRequest, 'contents' | 'lastUserText'>): GeminiStubScenario {
  const users = request.contents.filter((c) => c.role === 'user').map((c) => c.text);
  const text = `context: ${users.join(' | ')}`;
  const pieces = text.match(/\S+\s*/g) ?? [text];
  if (!request.lastUserText.includes('slowly')) return { kind: 'text', pieces, delayMs: 50 };
  const filler = Array.from({ length: 30 }, (_, i) => ` ${i + 1}.`);
  return { kind: 'text', pieces: [...pieces, ...filler], delayMs: 300 };
}

const port = Number(process.env.PORT ?? 8080);
const stub = await startGeminiStub({ host: '0.0.0.0', port, defaultScenario: contextAnswer });
console.log(JSON.stringify({ msg: 'gemini stub listening', port: stub.port }));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void stub.close().then(() => process.exit(0));
  });
}
