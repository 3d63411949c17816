import { ErrorCodes, type ErrorCode, type ErrorFrame } from '@ai-chat/protocol';

/** What refines an `llm_unavailable`: overloaded, timeout, unreachable, server_error. */
export type ErrorDetail = NonNullable<ErrorFrame['detail']>;

export interface AppErrorOptions {
  retryAfterMs?: number;
  detail?: ErrorDetail;
  cause?: unknown;
}

/** A failure with a protocol error code; anything else thrown is reported as `internal`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly detail: ErrorDetail | undefined;

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
