import type { FinishReason } from '@ai-chat/protocol';

/** One message of the conversation as the model sees it (already valid: alternating, starts and ends with `user`). */
export interface LlmMessage {
  role: 'user' | 'model';
  text: string;
}

export interface LlmRequest {
  contents: LlmMessage[];
  /** Aborting it cancels the HTTP request (stop, shutdown, idle timeout). */
  signal: AbortSignal;
}

/** Tokens a request used, as the provider counted them. */
export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

/**
 * What a provider yields: text pieces, at most one `usage` (when the provider reports
 * it), then at most one `finish`. A provider that ends without a `finish` ended
 * normally (`stop`).
 */
export type LlmEvent =
  | { type: 'text'; text: string }
  | { type: 'usage'; usage: LlmUsage }
  | { type: 'finish'; reason: Exclude<FinishReason, 'stopped'> };

/** A one-shot answer: the whole text at once (titles, summaries). */
export interface LlmCompletion {
  text: string;
  finishReason: Exclude<FinishReason, 'stopped'>;
  usage: LlmUsage | undefined;
}

/**
 * The LLM seam. `stream` throws `AppError` with `llm_rate_limited`, `llm_unavailable` or
 * `llm_refused` on failure; when `signal` is aborted it stops and throws (any error),
 * and the caller decides what the abort meant.
 */
export interface LlmProvider {
  /** The model name shown in `welcome.model`: `demo` for the offline demo. */
  readonly model: string;
  stream(request: LlmRequest): AsyncIterable<LlmEvent>;
  /** A short answer, not streamed; fails like `stream`. */
  complete(request: LlmRequest): Promise<LlmCompletion>;
}

/** `complete` for a provider whose API has no cheaper one-shot call: the stream read to its end. */
export async function collectCompletion(events: AsyncIterable<LlmEvent>): Promise<LlmCompletion> {
  let text = '';
  let finishReason: LlmCompletion['finishReason'] = 'stop';
  let usage: LlmUsage | undefined;
  for await (const event of events) {
    if (event.type === 'text') text += event.text;
    else if (event.type === 'usage') usage = event.usage;
    else finishReason = event.reason;
  }
  return { text, finishReason, usage };
}
