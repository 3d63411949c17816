import * as z from 'zod/mini';

// Shapes only: the formats of the ids and the length of the text are checked by
// `decodeClientFrame` afterwards, so that they get their own codes (invalid_chat_id,
// too_long) rather than bad_request.
const chatId = z.string();
const clientMsgId = z.string();

/** Every frame a client sends, told apart by `type`. */
export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), protocol: z.number(), token: z.optional(z.string()) }),
  z.object({ type: z.literal('join'), chatId }),
  z.object({ type: z.literal('leave'), chatId }),
  z.object({ type: z.literal('send'), chatId, clientMsgId, text: z.string() }),
  z.object({ type: z.literal('stop'), chatId }),
  z.object({ type: z.literal('regenerate'), chatId, clientMsgId }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ClientFrameType = ClientFrame['type'];

export type HelloFrame = Extract<ClientFrame, { type: 'hello' }>;
export type JoinFrame = Extract<ClientFrame, { type: 'join' }>;
export type LeaveFrame = Extract<ClientFrame, { type: 'leave' }>;
export type SendFrame = Extract<ClientFrame, { type: 'send' }>;
export type StopFrame = Extract<ClientFrame, { type: 'stop' }>;
export type RegenerateFrame = Extract<ClientFrame, { type: 'regenerate' }>;
/** The frames made idempotent by their `clientMsgId`: safe to send again after a reconnect. */
export type IdempotentFrame = SendFrame | RegenerateFrame;

/** The original plan's frame: `{chatId, message}` with no `type`, answered as a `send`. */
export const legacyFrameSchema = z.object({ chatId, message: z.string() });
export type LegacyFrame = z.infer<typeof legacyFrameSchema>;
