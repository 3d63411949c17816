/**
 * Wire protocol v1 of the chat, as both ends speak it: the frames (zod schemas and the
 * types derived from them), the error codes, the limits and the identifier rules, and the
 * validation of what each end receives. No transport, no store, no model provider.
 */
export { PROTOCOL_VERSION } from './version.js';
export { CHAT_ID_RE, CLIENT_MSG_ID_RE, isValidChatId } from './identifiers.js';
export { codePointLength } from './characters.js';
export { HISTORY_FRAME_BUDGET_BYTES, MAX_FRAME_BYTES_CEILING, MAX_MESSAGE_CHARS_CEILING, maxFrameBytes } from './limits.js';
export { ErrorCodes, errorCodeSchema, LLM_ERROR_DETAILS, llmErrorDetailSchema, type ErrorCode, type LlmErrorDetail } from './error-codes.js';
export {
  finishReasonSchema,
  messageSchema,
  messageStatusSchema,
  turnSchema,
  type FinishReason,
  type Message,
  type MessageStatus,
  type Turn,
} from './conversation.js';
export {
  clientFrameSchema,
  legacyFrameSchema,
  type ClientFrame,
  type ClientFrameType,
  type HelloFrame,
  type IdempotentFrame,
  type JoinFrame,
  type LeaveFrame,
  type LegacyFrame,
  type RegenerateFrame,
  type SendFrame,
  type StopFrame,
} from './client-frames.js';
export {
  ackFrameSchema,
  deltaFrameSchema,
  doneFrameSchema,
  errorFrameSchema,
  historyFrameSchema,
  serverFrameSchema,
  startFrameSchema,
  welcomeFrameSchema,
  type AckFrame,
  type DeltaFrame,
  type DoneFrame,
  type ErrorFrame,
  type HistoryFrame,
  type Limits,
  type LiveFrame,
  type ServerFrame,
  type StartFrame,
  type WelcomeFrame,
} from './server-frames.js';
export {
  decodeClientFrame,
  type ClientFrameResult,
  type DecodedClientFrame,
  type FrameContext,
  type FrameFault,
} from './decode-client-frame.js';
export { decodeServerFrame, type ServerFrameResult } from './decode-server-frame.js';
