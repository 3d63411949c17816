import { ErrorCodes, type ErrorCode, type LlmErrorDetail } from '@ai-chat/protocol';

export interface AppErrorOptions {
  retryAfterMs?: number;
  /** Refines an `llm_unavailable` (sent to the client as `detail`). */
  detail?: LlmErrorDetail;
  cause?: unknown;
}

/** A failure with a protocol error code; anything else thrown is reported as `internal`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly detail: LlmErrorDetail | undefined;

  constructor(code: ErrorCode, message: string = ErrorCodes[code].message, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = ErrorCodes[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
