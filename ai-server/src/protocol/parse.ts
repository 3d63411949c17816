import { decodeClientFrame, type DecodedClientFrame, type FrameContext, type FrameFault } from '@ai-chat/protocol';
import { AppError } from '../errors.js';

/** An inbound frame refused by the protocol's rules, with what is known of it for the error frame. */
export class FrameError extends AppError {
  readonly context: FrameContext;

  constructor(fault: FrameFault) {
    super(fault.code, fault.message);
    this.context = fault.context;
  }
}

/** Validates one inbound text frame (`decodeClientFrame`); throws `FrameError` when it is refused. */
export function parseClientFrame(data: string, maxMessageChars: number): DecodedClientFrame {
  const result = decodeClientFrame(data, maxMessageChars);
  if (!result.ok) throw new FrameError(result.fault);
  return result.value;
}
