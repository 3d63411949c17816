import { collectCompletion, type LlmCompletion, type LlmEvent, type LlmMessage, type LlmProvider, type LlmRequest } from './llm-provider.js';

export interface DemoProviderOptions {
  /** Pause between two pieces, so the page shows a reply being streamed. Default 30 ms. */
  pieceDelayMs?: number;
}

const QUOTE_MAX_CODE_POINTS = 80;
const WORDS_PER_PIECE = 3;
const HANGUL = /[\u1100-\u11FF\u3130-\u318F\uA960-\uA97F\uAC00-\uD7AF\uD7B0-\uD7FF]/;

/**
 * The offline model used when no GEMINI_API_KEY is set: it says so, tells how to set the
 * key, and quotes the question, so a new user sees the whole product work.
 */
export class DemoProvider implements LlmProvider {
  readonly model = 'demo';
  readonly #pieceDelayMs: number;

  constructor(options: DemoProviderOptions = {}) {
    this.#pieceDelayMs = Math.max(0, options.pieceDelayMs ?? 30);
  }

  async *stream({ contents, signal }: LlmRequest): AsyncGenerator<LlmEvent, void, undefined> {
    signal.throwIfAborted();
    const pieces = splitIntoPieces(demoReply(contents));
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await sleep(this.#pieceDelayMs, signal);
      signal.throwIfAborted();
      yield { type: 'text', text: piece };
    }
    signal.throwIfAborted();
    yield { type: 'finish', reason: 'stop' };
  }

  complete(request: LlmRequest): Promise<LlmCompletion> {
    return collectCompletion(new DemoProvider({ pieceDelayMs: 0 }).stream(request));
  }
}

/** The whole demo answer, in Korean when the last user message contains Hangul. */
export function demoReply(contents: readonly LlmMessage[]): string {
  const question = [...contents].reverse().find((m) => m.role === 'user')?.text ?? '';
  const quote = shortQuote(question);
  if (HANGUL.test(question)) {
    return [
      '지금은 데모 모드입니다. 이 서버에 Gemini API 키가 설정되어 있지 않아 실제 모델이 아니라 미리 준비된 안내문이 답하고 있습니다.',
      '\n\nGemini와 대화하려면 `.env` 파일이나 환경 변수에 `GEMINI_API_KEY=<키>`를 설정한 뒤 서버를 다시 시작하세요. 키는 Google AI Studio(<https://aistudio.google.com/apikey>)에서 발급받을 수 있습니다.',
      quote === '' ? '' : `\n\n질문하신 내용: “${quote}”`,
    ].join('');
  }
  return [
    'This is a demo reply: this server has no Gemini API key, so a canned notice is answering, not a real model.',
    '\n\nTo chat with Gemini, set `GEMINI_API_KEY=<your key>` in the `.env` file or in the environment, then restart the server. You can get a key from Google AI Studio (<https://aistudio.google.com/apikey>).',
    quote === '' ? '' : `\n\nYou asked: “${quote}”`,
  ].join('');
}

/** The first code points of the question on one line, with an ellipsis when cut. */
function shortQuote(text: string): string {
  // eslint-disable-next-line @typescript-eslint/no-misused-spread -- the protocol counts characters as code points
  const codePoints = [...text.replace(/\s+/g, ' ').trim()];
  if (codePoints.length <= QUOTE_MAX_CODE_POINTS) return codePoints.join('');
  return `${codePoints.slice(0, QUOTE_MAX_CODE_POINTS).join('').trimEnd()}…`;
}

/** A few words per piece; the pieces concatenate back to exactly `text`. */
function splitIntoPieces(text: string): string[] {
  const words = text.match(/^\s+|\S+\s*/g) ?? [text];
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += WORDS_PER_PIECE) pieces.push(words.slice(i, i + WORDS_PER_PIECE).join(''));
  return pieces;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** What an aborted wait rejects with: the signal's reason (an Error from every caller of the product). */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted', { cause: reason });
}
