import type { ChatService, Follower } from '../chat/chat-service.js';
import type { ClientSink } from '../chat/client-sink.js';
import { newId } from '../chat/ids.js';
import type { Message } from '@ai-chat/protocol';

/**
 * The original plan's protocol, on top of the chat service: a `{chatId, message}` frame is
 * a send whose client gets exactly one frame back, `{chatId, reply}` (with the `done`
 * fields) or an `error`, and nothing unasked. A takeover of the answer is followed to its end.
 */
export class LegacyAdapter {
  constructor(private readonly service: ChatService) {}

  async send(sink: ClientSink, chatId: string, text: string): Promise<void> {
    const turnId = newId('t');
    const message: Message = { id: newId('m'), role: 'user', text, createdAt: Date.now(), status: 'complete' };
    // The answer's current turn: a takeover starts a new one replying to the same message.
    let current = turnId;
    const follower: Follower | null = this.service.follow(sink, chatId, (frame) => {
      if (frame.type === 'start' && frame.replyTo === message.id) current = frame.turnId;
      if (!('turnId' in frame) || frame.turnId !== current) return;
      if (frame.type === 'done') {
        const { chatId: id, reply, messageId, finishReason } = frame;
        sink.send({ type: 'done', chatId: id, reply, turnId: current, messageId, finishReason });
      } else if (frame.type === 'error') sink.send(frame);
      else return;
      follower?.close();
    });
    if (!follower) return;
    try {
      await follower.open();
      await this.service.answer(chatId, message, turnId);
    } catch (err) {
      follower.close();
      throw err;
    }
  }
}
