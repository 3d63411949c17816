import * as z from 'zod/mini';
import { finishReasonSchema, messageSchema, turnSchema } from './conversation.js';
import { errorCodeSchema, llmErrorDetailSchema } from './error-codes.js';
import { PROTOCOL_VERSION } from './version.js';

export const welcomeFrameSchema = z.object({
  type: z.literal('welcome'),
  protocol: z.literal(PROTOCOL_VERSION),
  serverId: z.string(),
  model: z.string(),
  limits: z.object({ maxMessageChars: z.number(), maxFrameBytes: z.number() }),
});
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type Limits = WelcomeFrame['limits'];

export const historyFrameSchema = z.object({
  type: z.literal('history'),
  chatId: z.string(),
  messages: z.array(messageSchema),
  turn: z.nullable(turnSchema),
  truncated: z.boolean(),
});
export type HistoryFrame = z.infer<typeof historyFrameSchema>;

export const ackFrameSchema = z.object({
  type: z.literal('ack'),
  chatId: z.string(),
  clientMsgId: z.string(),
  messageId: z.string(),
  duplicate: z.boolean(),
});
export type AckFrame = z.infer<typeof ackFrameSchema>;

export const startFrameSchema = z.object({
  type: z.literal('start'),
  chatId: z.string(),
  turnId: z.string(),
  replyTo: z.string(),
  replaces: z.nullable(z.string()),
});
export type StartFrame = z.infer<typeof startFrameSchema>;

export const deltaFrameSchema = z.object({
  type: z.literal('delta'),
  chatId: z.string(),
  turnId: z.string(),
  seq: z.number(),
  text: z.string(),
});
export type DeltaFrame = z.infer<typeof deltaFrameSchema>;

export const doneFrameSchema = z.object({
  type: z.literal('done'),
  chatId: z.string(),
  turnId: z.string(),
  messageId: z.string(),
  reply: z.string(),
  finishReason: finishReasonSchema,
});
export type DoneFrame = z.infer<typeof doneFrameSchema>;

export const errorFrameSchema = z.object({
  type: z.literal('error'),
  code: errorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
  chatId: z.optional(z.string()),
  turnId: z.optional(z.string()),
  clientMsgId: z.optional(z.string()),
  messageId: z.optional(z.string()),
  retryAfterMs: z.optional(z.number()),
  /** Refines an `llm_unavailable`. */
  detail: z.optional(llmErrorDetailSchema),
});
export type ErrorFrame = z.infer<typeof errorFrameSchema>;

/** Every frame the server sends, told apart by `type`. */
export const serverFrameSchema = z.discriminatedUnion('type', [
  welcomeFrameSchema,
  historyFrameSchema,
  ackFrameSchema,
  startFrameSchema,
  deltaFrameSchema,
  doneFrameSchema,
  errorFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

/** The frames of a turn, which every socket joined to the chat sees. */
export type LiveFrame = StartFrame | DeltaFrame | DoneFrame | ErrorFrame;
