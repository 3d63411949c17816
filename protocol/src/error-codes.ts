import * as z from 'zod/mini';

/**
 * The error-code catalogue of protocol v1. Every failure that reaches a client is one of
 * these codes: the code is for programs, `retryable` says whether the same request may
 * succeed later, `message` is the default English text of the `error` frame (for
 * developers; pages show their own words).
 */
export const ErrorCodes = {
  /** Not JSON, not an object, unknown `type`, wrong field types, binary frame. */
  bad_request: { retryable: false, message: 'The frame is not a valid protocol v1 frame.' },
  /** `chatId` or `clientMsgId` outside its format. */
  invalid_chat_id: { retryable: false, message: 'chatId or clientMsgId is outside its format.' },
  /** `text` over `MAX_MESSAGE_CHARS`, or empty. */
  too_long: { retryable: false, message: 'The message is empty or longer than the limit.' },
  /** Too many messages from this client address or in this chat; `retryAfterMs` says when. */
  rate_limited: { retryable: true, message: 'Too many messages; retry later.' },
  /** A turn is already streaming in this chat (one at a time per chat, across all replicas). */
  busy: { retryable: true, message: 'A reply is already being written in this chat.' },
  /** The model provider answered 429. */
  llm_rate_limited: { retryable: true, message: 'The model provider is rate limiting; retry later.' },
  /** The model provider failed, timed out or could not be reached. */
  llm_unavailable: { retryable: true, message: 'The model provider failed or could not be reached.' },
  /** The provider refused before any text: a blocked prompt, a safety stop, an invalid request. */
  llm_refused: { retryable: false, message: 'The model provider refused to answer.' },
  /**
   * The store cannot be reached, or is full. The operation may or may not have been
   * stored: retrying with the same `clientMsgId` is safe, a new `clientMsgId` is not.
   */
  store_unavailable: { retryable: true, message: 'The chat store is unavailable; whether this was stored is unknown (sending it again with the same clientMsgId is safe).' },
  /** The replica producing the turn died and the turn could not be continued. */
  interrupted: { retryable: true, message: 'The reply was interrupted and could not be continued.' },
  /** Anything else; the details stay in the server's log. */
  internal: { retryable: true, message: 'Internal server error.' },
} as const satisfies Record<string, { retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export const errorCodeSchema = z.enum(Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]]);

/** What refines an `llm_unavailable`: the provider said it is overloaded, no piece came within the idle timeout, the network failed, or another provider failure. */
export const LLM_ERROR_DETAILS = ['overloaded', 'timeout', 'unreachable', 'server_error'] as const;
export type LlmErrorDetail = (typeof LLM_ERROR_DETAILS)[number];
export const llmErrorDetailSchema = z.enum(LLM_ERROR_DETAILS);
