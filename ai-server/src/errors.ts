/**
 * The error-code catalogue of protocol v1 (see docs/protocol.md). Every failure that
 * reaches a client is one of these codes; the text is for people, the code for programs.
 */
export const ErrorCodes = {
  bad_request: { retryable: false, message: 'The frame is not a valid protocol v1 frame.' },
  invalid_chat_id: { retryable: false, message: 'chatId or clientMsgId is outside its format.' },
  too_long: { retryable: false, message: 'The message is empty or longer than the limit.' },
  rate_limited: { retryable: true, message: 'Too many messages; retry later.' },
  busy: { retryable: true, message: 'A reply is already being written in this chat.' },
  llm_rate_limited: { retryable: true, message: 'The model provider is rate limiting; retry later.' },
  llm_unavailable: { retryable: true, message: 'The model provider failed or could not be reached.' },
  llm_refused: { retryable: false, message: 'The model provider refused to answer.' },
  store_unavailable: { retryable: true, message: 'The chat store cannot be reached.' },
  interrupted: { retryable: true, message: 'The reply was interrupted and could not be continued.' },
  internal: { retryable: true, message: 'Internal server error.' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface AppErrorOptions {
  retryAfterMs?: number;
  cause?: unknown;
}

/** A failure with a protocol error code; anything else thrown is reported as `internal`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string = ErrorCodes[code].message, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = ErrorCodes[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
