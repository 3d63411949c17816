import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { AppError } from '../errors.js';
import { statusDetail } from './error-detail.js';
import type { LlmCompletion, LlmEvent, LlmMessage, LlmProvider, LlmRequest, LlmUsage } from './llm-provider.js';
import { ThinkFilter } from './think-filter.js';

export interface OpenAiProviderOptions {
  /** Any OpenAI-compatible Chat Completions endpoint, e.g. `http://localhost:11434/v1`. */
  baseUrl: string;
  /** Optional: local servers (Ollama, vLLM, LM Studio) need none. */
  apiKey?: string;
  model: string;
  systemPrompt: string;
  /** Extra request parameters some servers need, merged into every request body. */
  extraBody?: Readonly<Record<string, unknown>>;
}

type Finish = LlmCompletion['finishReason'];

export function mapOpenAiFinishReason(reason: string): Finish {
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'max_tokens';
  if (reason === 'content_filter') return 'safety';
  return 'other';
}

/**
 * Any OpenAI-compatible model through the `openai` SDK's streaming Chat Completions. One
 * HTTP request per call, the conversation rebuilt by the caller on every turn.
 */
export class OpenAiProvider implements LlmProvider {
  readonly model: string;
  readonly #client: OpenAI;
  readonly #systemPrompt: string;
  readonly #extraBody: Readonly<Record<string, unknown>>;

  constructor(options: OpenAiProviderOptions) {
    this.model = options.model;
    this.#systemPrompt = options.systemPrompt;
    this.#extraBody = options.extraBody ?? {};
    this.#client = new OpenAI({
      // Explicit, so that the SDK reads neither OPENAI_BASE_URL nor OPENAI_API_KEY itself.
      baseURL: options.baseUrl,
      // The SDK wants a key; without one, no Authorization header is sent at all.
      apiKey: options.apiKey ?? 'none',
      ...(options.apiKey === undefined ? { defaultHeaders: { Authorization: null } } : {}),
      organization: null,
      project: null,
      // No silent re-requests: a failed turn ends with its error and the user regenerates.
      maxRetries: 0,
      logLevel: 'off',
    });
  }

  async *stream({ contents, signal }: LlmRequest): AsyncGenerator<LlmEvent, void, undefined> {
    signal.throwIfAborted();
    // Our own controller, aborted in `finally`: a consumer that leaves the loop early must
    // cancel the HTTP request too.
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const think = new ThinkFilter();
    let sawText = false;
    let rawFinish: string | undefined;
    let usage: LlmUsage | undefined;
    try {
      try {
        const params: ChatCompletionCreateParamsStreaming = {
          ...this.#extraBody,
          model: this.model,
          messages: this.#messages(contents),
          stream: true,
          stream_options: { include_usage: true },
        };
        const chunks = await this.#client.chat.completions.create(params, { signal: controller.signal });
        for await (const chunk of chunks) {
          signal.throwIfAborted();
          if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
          const choice = chunk.choices[0];
          if (choice === undefined) continue;
          // Reasoning fields (`reasoning_content`, `reasoning`) are never read: not for the user.
          const piece = typeof choice.delta.content === 'string' ? think.push(choice.delta.content) : '';
          if (piece !== '') {
            sawText = true;
            yield { type: 'text', text: piece };
          }
          if (choice.finish_reason) rawFinish = choice.finish_reason;
        }
      } catch (err) {
        throw toProviderError(err, signal, sawText);
      }
      signal.throwIfAborted();
      const held = think.end();
      if (held !== '') {
        sawText = true;
        yield { type: 'text', text: held };
      }
      if (rawFinish === undefined) {
        // Every answer ends with a finish_reason: a stream closed without one was cut.
        throw new AppError('llm_unavailable', undefined, {
          cause: new Error('OpenAI-compatible stream ended without a finish_reason'),
          detail: 'unreachable',
        });
      }
      const reason = mapOpenAiFinishReason(rawFinish);
      if (reason === 'safety' && !sawText) {
        throw new AppError('llm_refused', 'The model provider stopped before answering.', {
          cause: new Error('OpenAI-compatible model finished with content_filter before any text'),
        });
      }
      if (usage) yield { type: 'usage', usage };
      yield { type: 'finish', reason };
    } finally {
      signal.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }

  /** One non-streamed Chat Completion. */
  async complete({ contents, signal }: LlmRequest): Promise<LlmCompletion> {
    signal.throwIfAborted();
    const params: ChatCompletionCreateParamsNonStreaming = {
      ...this.#extraBody,
      model: this.model,
      messages: this.#messages(contents),
      stream: false,
    };
    try {
      const completion = await this.#client.chat.completions.create(params, { signal });
      const choice = completion.choices[0];
      const think = new ThinkFilter();
      const text = think.push(choice?.message.content ?? '') + think.end();
      const finishReason = mapOpenAiFinishReason(choice?.finish_reason ?? 'stop');
      if (finishReason === 'safety' && text === '') {
        throw new AppError('llm_refused', 'The model provider stopped before answering.');
      }
      const usage = completion.usage ? { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens } : undefined;
      return { text, finishReason, usage };
    } catch (err) {
      throw toProviderError(err, signal, false);
    }
  }

  #messages(contents: readonly LlmMessage[]): ChatCompletionMessageParam[] {
    return [
      ...(this.#systemPrompt === '' ? [] : [{ role: 'system' as const, content: this.#systemPrompt }]),
      ...contents.map((m) => (m.role === 'user' ? { role: 'user' as const, content: m.text } : { role: 'assistant' as const, content: m.text })),
    ];
  }
}

/**
 * Maps what the SDK threw to the seam's errors. An abort is passed through as the caller's
 * own reason; diagnostics go to `cause`, built from statuses and codes only: the API's
 * messages can quote the request.
 */
function toProviderError(err: unknown, signal: AbortSignal, sawText: boolean): unknown {
  if (signal.aborted) return signal.reason ?? err;
  if (err instanceof AppError) return err;
  if (err instanceof APIConnectionTimeoutError) {
    return new AppError('llm_unavailable', undefined, { cause: new Error('OpenAI-compatible request timed out'), detail: 'timeout' });
  }
  if (err instanceof APIConnectionError) {
    return new AppError('llm_unavailable', undefined, { cause: new Error('OpenAI-compatible endpoint unreachable'), detail: 'unreachable' });
  }
  if (isApiError(err)) {
    const api = err;
    const body = (api.error ?? {}) as { code?: unknown; type?: unknown };
    // An error event inside a 200 stream has no HTTP status: its body may carry one as `code`.
    const status = api.status ?? (typeof body.code === 'number' ? body.code : undefined);
    const cause = new Error(`OpenAI-compatible API error ${status ?? 'in the stream'}${safeToken(body.type)}${safeToken(body.code)}`);
    if (status === 429) {
      return new AppError('llm_rate_limited', undefined, { retryAfterMs: retryAfterMs(api.headers), cause });
    }
    const clientError = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 499;
    if (clientError && !sawText) return new AppError('llm_refused', undefined, { cause });
    const overloaded = typeof body.type === 'string' && /overloaded/i.test(body.type);
    return new AppError('llm_unavailable', undefined, { cause, detail: overloaded ? 'overloaded' : statusDetail(status) });
  }
  // Reading the stream failed (the connection was cut, a truncated event).
  return new AppError('llm_unavailable', undefined, {
    cause: new Error(`OpenAI-compatible stream failed: ${err instanceof Error ? err.name : typeof err}`),
    detail: 'unreachable',
  });
}

/** `instanceof` alone would leave the class's type parameters as any. */
function isApiError(err: unknown): err is APIError {
  return err instanceof APIError;
}

/** ` (token)` for enum-like values only, never free text. */
function safeToken(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? ` (${value})` : '';
}

/** `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
