import type { ServerFrame } from '@ai-chat/protocol';

/** Where the chat service sends a client's frames (one socket); the transport implements it. */
export interface ClientSink {
  readonly id: string;
  /** Queues a frame for the client; a closed or overloaded socket drops it. */
  send(frame: ServerFrame | LegacyReply): void;
}

/** The single frame a legacy `{chatId, message}` client gets per message. */
export interface LegacyReply {
  type: 'done';
  chatId: string;
  reply: string;
  turnId: string;
  messageId: string;
  finishReason: string;
}
