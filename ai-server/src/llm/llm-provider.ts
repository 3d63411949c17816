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

/**
 * What a provider yields: text pieces, then at most one `finish`. A provider that ends
 * without a `finish` ended normally (`stop`).
 */
export type LlmEvent =
  | { type: 'text'; text: string }
  | { type: 'finish'; reason: Exclude<FinishReason, 'stopped'> };

/**
 * The LLM seam. `stream` throws `AppError` with `llm_rate_limited`, `llm_unavailable` or
 * `llm_refused` on failure; when `signal` is aborted it stops and throws (any error),
 * and the caller decides what the abort meant.
 */
export interface LlmProvider {
  /** The model name shown in `welcome.model`: `demo` for the offline demo. */
  readonly model: string;
  stream(request: LlmRequest): AsyncIterable<LlmEvent>;
}
