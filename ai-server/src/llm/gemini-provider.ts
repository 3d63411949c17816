import { ApiError, GoogleGenAI } from '@google/genai';
import { AppError } from '../errors.js';
import { statusDetail } from './error-detail.js';
import { collectCompletion, type LlmCompletion, type LlmEvent, type LlmProvider, type LlmRequest, type LlmUsage } from './llm-provider.js';

export interface GeminiProviderOptions {
  apiKey: string;
  model: string;
  /** Another endpoint for the Gemini REST API (a proxy, a test stub). */
  baseUrl?: string;
  systemPrompt: string;
}

type Finish = Extract<LlmEvent, { type: 'finish' }>['reason'];

// Passed explicitly so that the SDK never falls back to GOOGLE_GEMINI_BASE_URL from the
// environment: the configuration is the only source.
const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

const SAFETY_FINISH_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

export function mapFinishReason(reason: string): Finish {
  if (reason === 'STOP') return 'stop';
  if (reason === 'MAX_TOKENS') return 'max_tokens';
  if (SAFETY_FINISH_REASONS.has(reason)) return 'safety';
  return 'other';
}

/**
 * The Gemini API through `@google/genai`'s `generateContentStream`. One HTTP request per
 * call: the conversation is rebuilt by the caller on every turn.
 */
export class GeminiProvider implements LlmProvider {
  readonly model: string;
  readonly #ai: GoogleGenAI;
  readonly #systemPrompt: string;

  constructor(options: GeminiProviderOptions) {
    this.model = options.model;
    this.#systemPrompt = options.systemPrompt;
    this.#ai = new GoogleGenAI({
      apiKey: options.apiKey,
      // Explicit, or GOOGLE_GENAI_USE_VERTEXAI in the environment would switch backends.
      vertexai: false,
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: options.baseUrl ?? DEFAULT_BASE_URL },
    });
  }

  async *stream({ contents, signal }: LlmRequest): AsyncGenerator<LlmEvent, void, undefined> {
    signal.throwIfAborted();
    // Our own controller, aborted in `finally`: a consumer that leaves the loop early
    // (break, return) must cancel the HTTP request too, and the SDK only cancels on abort.
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let sawText = false;
    let rawFinish: string | undefined;
    let usage: LlmUsage | undefined;
    try {
      try {
        const chunks = await this.#ai.models.generateContentStream({
          model: this.model,
          contents: contents.map((m) => ({ role: m.role, parts: [{ text: m.text }] })),
          config: {
            ...(this.#systemPrompt === '' ? {} : { systemInstruction: this.#systemPrompt }),
            abortSignal: controller.signal,
            // One request per turn: no silent re-requests behind the caller's back (the
            // turn has its own lease, idle timeout and takeover).
            automaticContinuation: false,
          },
        });
        for await (const chunk of chunks) {
          // The SDK may hold several parsed events from one network read; don't hand out
          // any of them once the caller has aborted.
          signal.throwIfAborted();
          const blocked = chunk.promptFeedback?.blockReason;
          if (blocked !== undefined) {
            throw new AppError('llm_refused', 'The model provider blocked the prompt.', {
              cause: new Error(`Gemini blocked the prompt: ${safeToken(blocked)}`),
            });
          }
          const candidate = chunk.candidates?.[0];
          for (const part of candidate?.content?.parts ?? []) {
            if (part.thought === true || typeof part.text !== 'string' || part.text === '') continue;
            signal.throwIfAborted();
            sawText = true;
            yield { type: 'text', text: part.text };
          }
          if (candidate?.finishReason !== undefined) rawFinish = candidate.finishReason;
          const meta = chunk.usageMetadata;
          if (meta?.promptTokenCount !== undefined) {
            usage = { inputTokens: meta.promptTokenCount, outputTokens: meta.candidatesTokenCount ?? 0 };
          }
        }
      } catch (err) {
        throw toProviderError(err, signal, sawText);
      }
      signal.throwIfAborted();
      if (rawFinish === undefined) {
        // The API always ends with a finishReason: a stream closed without one was cut
        // (a proxy, a dropped connection ended cleanly) and its reply is incomplete.
        throw new AppError('llm_unavailable', undefined, {
          cause: new Error('Gemini stream ended without a finishReason'),
          detail: 'unreachable',
        });
      }
      const reason = mapFinishReason(rawFinish);
      if (reason === 'safety' && !sawText) {
        throw new AppError('llm_refused', 'The model provider stopped before answering.', {
          cause: new Error(`Gemini finished with ${safeToken(rawFinish)} before any text`),
        });
      }
      if (usage) yield { type: 'usage', usage };
      yield { type: 'finish', reason };
    } finally {
      signal.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }

  /** The streamed request read to its end (one request, like a turn). */
  complete(request: LlmRequest): Promise<LlmCompletion> {
    return collectCompletion(this.stream(request));
  }
}

/**
 * Maps what the SDK threw to the seam's errors. An abort is passed through as the
 * caller's own reason; diagnostics go to `cause`, built from codes only: the SDK's
 * messages can carry the streamed text or the request.
 */
function toProviderError(err: unknown, signal: AbortSignal, sawText: boolean): unknown {
  if (signal.aborted) return signal.reason ?? err;
  if (err instanceof AppError) return err;
  if (isApiError(err)) {
    const info = parseGoogleError(err.message);
    const cause = new Error(
      `Gemini API error ${err.status}${info.status ? ` ${info.status}` : ''}${info.reason ? ` (${info.reason})` : ''}`,
    );
    if (err.status === 429) {
      return new AppError('llm_rate_limited', undefined, { retryAfterMs: info.retryAfterMs, cause });
    }
    // 4xx means this request will never work (bad request, key, permission, model):
    // refused, unless text already went out (refused means "before any text").
    const clientError = err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 499;
    if (clientError && !sawText) return new AppError('llm_refused', undefined, { cause });
    return new AppError('llm_unavailable', undefined, { cause, detail: statusDetail(err.status) });
  }
  return new AppError('llm_unavailable', undefined, {
    cause: new Error(`Gemini request failed: ${describeTransportError(err)}`),
    detail: 'unreachable',
  });
}

function isApiError(err: unknown): err is ApiError {
  return (
    err instanceof ApiError ||
    (err instanceof Error && err.name === 'ApiError' && typeof (err as { status?: unknown }).status === 'number')
  );
}

/** Enum-like tokens only (RESOURCE_EXHAUSTED, API_KEY_INVALID…), never free text. */
function safeToken(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : '?';
}

const SAFE_TRANSPORT_MESSAGES = new Set([
  'fetch failed',
  'terminated',
  'other side closed',
  'Incomplete JSON segment at the end',
  'Response body is empty',
]);

function describeTransportError(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code;
  const message = SAFE_TRANSPORT_MESSAGES.has(err.message) ? `: ${err.message}` : '';
  return `${safeToken(err.name)}${message}${code === undefined ? '' : ` (${safeToken(code)})`}`;
}

export interface GoogleErrorInfo {
  /** The canonical status, e.g. RESOURCE_EXHAUSTED. */
  status?: string;
  /** `google.rpc.ErrorInfo.reason`, e.g. API_KEY_INVALID. */
  reason?: string;
  /** From `google.rpc.RetryInfo.retryDelay`. */
  retryAfterMs?: number;
}

/**
 * Reads the Google error body out of an `ApiError` message. The SDK puts there the JSON
 * body of an HTTP error (`{"error":{…}}`), or `got status: X. {json}` for an error
 * inside the stream, or, when the body was not served as JSON, a wrapper whose
 * `error.message` is the original body as a string.
 */
export function parseGoogleError(message: string): GoogleErrorInfo {
  const start = message.search(/[[{]/);
  if (start < 0) return {};
  let error: unknown;
  try {
    error = unwrapError(JSON.parse(message.slice(start)));
  } catch {
    return {};
  }
  for (let depth = 0; depth < 2 && isRecord(error) && typeof error.message === 'string'; depth++) {
    const inner = error.message.trim();
    if (!inner.startsWith('{') && !inner.startsWith('[')) break;
    try {
      const nested = unwrapError(JSON.parse(inner));
      if (!isRecord(nested)) break;
      error = nested;
    } catch {
      break;
    }
  }
  if (!isRecord(error)) return {};
  const details = Array.isArray(error.details) ? error.details.filter(isRecord) : [];
  const typeIs = (d: Record<string, unknown>, name: string) =>
    typeof d['@type'] === 'string' && d['@type'].endsWith(`/google.rpc.${name}`);
  const retryInfo = details.find((d) => typeIs(d, 'RetryInfo'));
  const errorInfo = details.find((d) => typeIs(d, 'ErrorInfo'));
  const info: GoogleErrorInfo = {};
  if (typeof error.status === 'string' && /^[A-Z_]{1,40}$/.test(error.status)) info.status = error.status;
  if (errorInfo && typeof errorInfo.reason === 'string') info.reason = safeToken(errorInfo.reason);
  const retryAfterMs = retryInfo ? parseDurationMs(retryInfo.retryDelay) : undefined;
  if (retryAfterMs !== undefined) info.retryAfterMs = retryAfterMs;
  return info;
}

function unwrapError(json: unknown): unknown {
  const first: unknown = Array.isArray(json) ? json[0] : json;
  return isRecord(first) ? first.error : undefined;
}

/** A protobuf Duration in its JSON form (`"17s"`, `"1.5s"`) or as `{seconds, nanos}`. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
    return m?.[1] === undefined ? undefined : Math.ceil(Number(m[1]) * 1000);
  }
  if (isRecord(value)) {
    const seconds = Number(value.seconds ?? 0);
    const nanos = Number(value.nanos ?? 0);
    if (Number.isFinite(seconds) && Number.isFinite(nanos) && seconds >= 0 && nanos >= 0) {
      return Math.ceil(seconds * 1000 + nanos / 1e6);
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
