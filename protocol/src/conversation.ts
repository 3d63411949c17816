import * as z from 'zod/mini';

/** How a turn ended (`done.finishReason`). */
export const finishReasonSchema = z.enum(['stop', 'stopped', 'max_tokens', 'safety', 'other']);
export type FinishReason = z.infer<typeof finishReasonSchema>;

/** A stored message's state: a turn that ended in an error or an interruption keeps its partial text. */
export const messageStatusSchema = z.enum(['complete', 'stopped', 'interrupted', 'error']);
export type MessageStatus = z.infer<typeof messageStatusSchema>;

/** One stored message of a chat. */
export const messageSchema = z.object({
  id: z.string(),
  role: z.enum(['user', 'model']),
  text: z.string(),
  /** ms since epoch */
  createdAt: z.number(),
  status: messageStatusSchema,
});
export type Message = z.infer<typeof messageSchema>;

/** A turn streaming right now, as `history.turn` shows it: the text so far and the `seq` of its last delta. */
export const turnSchema = z.object({
  turnId: z.string(),
  replyTo: z.string(),
  replaces: z.nullable(z.string()),
  text: z.string(),
  seq: z.number(),
});
export type Turn = z.infer<typeof turnSchema>;
