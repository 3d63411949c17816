import type { Logger } from 'pino';
import { ErrorCodes, type ErrorCode, type ErrorFrame, type FinishReason, type LiveFrame, type Message, type MessageStatus } from '@ai-chat/protocol';
import { AppError, isAppError } from '../errors.js';
import type { LlmProvider, LlmUsage } from '../llm/llm-provider.js';
import type { ChatStore, TurnSignal } from '../store/chat-store.js';
import { buildContext } from './context.js';
import { newId } from './ids.js';
import { metrics } from '../metrics/metrics.js';

export interface TurnSettings {
  contextMaxChars: number;
  maxReplyChars: number;
  maxMessageChars: number;
  llmIdleTimeoutMs: number;
  leaseMs: number;
}

export interface TurnSpec {
  chatId: string;
  turnId: string;
  replyTo: string;
  replaces: string | null;
}

/** Why a turn's model stream was aborted. */
type AbortReason = 'stop' | 'idle' | 'fenced' | 'handover' | 'max';

/** Longest time a piece of text waits before it is published (protocol: at most 50 ms). */
const FLUSH_DELAY_MS = 20;

/**
 * Produces one turn: reads the conversation, streams the model's answer through the store
 * (so every replica's watchers see it), keeps the lease, and ends the turn exactly once.
 */
export class TurnRunner {
  private readonly abortController = new AbortController();
  private abortReason: AbortReason | null = null;
  private reply = '';
  private replyChars = 0;
  private pending = '';
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private storeError: AppError | null = null;
  private modelDone = false;
  readonly done: Promise<void>;

  constructor(
    private readonly spec: TurnSpec,
    private readonly store: ChatStore,
    private readonly llm: LlmProvider,
    private readonly settings: TurnSettings,
    private readonly log: Logger,
    /** Delivers a frame to this replica's own watchers when the store cannot publish it. */
    private readonly localFallback: (frame: LiveFrame) => void,
  ) {
    this.done = this.run().catch((err: unknown) => {
      this.log.error({ err }, 'turn failed unexpectedly');
    });
  }

  get turnId(): string {
    return this.spec.turnId;
  }

  /** Ends the model stream; the turn then ends as the reason says. */
  abort(reason: AbortReason): void {
    // A reply the model has finished is stored, not handed over to be answered again.
    if (this.abortReason || (reason === 'handover' && this.modelDone)) return;
    this.abortReason = reason;
    this.abortController.abort(new Error(`turn aborted: ${reason}`));
  }

  private async run(): Promise<void> {
    const { chatId, turnId } = this.spec;
    const started = Date.now();
    let firstTokenAt: number | null = null;
    const unsubscribe = await this.store
      .subscribe(chatId, (e) => {
        if ('control' in e && e.control === 'stop' && e.turnId === turnId) this.abort('stop');
      })
      .catch(() => null);
    const renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.settings.leaseMs / 3)));
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => this.abort('idle'), this.settings.llmIdleTimeoutMs);
    };

    let finishReason: FinishReason = 'stop';
    let usage: LlmUsage | null = null;
    let failure: AppError | null = null;
    try {
      // The turn's `start` was published by the store when the turn was opened or claimed.
      const stored = await this.store.recentMessages(
        chatId,
        this.settings.contextMaxChars + this.settings.maxReplyChars + this.settings.maxMessageChars,
      );
      const contents = buildContext(stored, this.spec.replyTo, this.settings.contextMaxChars);
      if (!contents || contents.length === 0) throw new AppError('interrupted', 'the message to answer is gone');
      armIdle();
      for await (const event of this.llm.stream({ contents, signal: this.abortController.signal })) {
        if (this.abortReason) break;
        armIdle();
        if (event.type === 'usage') {
          usage = event.usage;
          continue;
        }
        if (event.type === 'finish') {
          finishReason = event.reason;
          continue;
        }
        if (!event.text) continue;
        firstTokenAt ??= Date.now();
        if (!this.take(event.text)) {
          finishReason = 'max_tokens';
          this.abort('max');
          break;
        }
      }
    } catch (err) {
      if (!this.abortReason || this.abortReason === 'max') failure = toTurnError(err, this.log);
    } finally {
      clearTimeout(idleTimer);
      this.modelDone = true;
    }
    if (this.abortReason === 'idle') failure = new AppError('llm_unavailable', 'the model stopped answering', { detail: 'timeout' });
    if (this.abortReason === 'stop') finishReason = 'stopped';

    await this.flush();
    clearInterval(renewTimer);
    unsubscribe?.();

    const reason = this.abortReason;
    if (reason === 'fenced') {
      this.log.warn('turn lease lost; another replica owns the turn now');
      return;
    }
    if (reason === 'handover') {
      await this.store.releaseTurn(chatId, turnId).catch(() => undefined);
      this.log.info('turn handed over');
      return;
    }
    failure ??= this.storeError;
    await this.end(failure, finishReason);
    const ttftMs = firstTokenAt === null ? null : firstTokenAt - started;
    const durationMs = Date.now() - started;
    metrics.turnEnded(failure ? 'error' : finishReason, ttftMs, durationMs);
    this.log.info(
      {
        ttftMs,
        durationMs,
        chars: this.replyChars,
        finishReason: failure ? null : finishReason,
        errorCode: failure?.code ?? null,
        inputTokens: usage?.inputTokens ?? null,
        outputTokens: usage?.outputTokens ?? null,
      },
      'turn finished',
    );
  }

  /** Adds model text within MAX_REPLY_CHARS; false once the cap is reached. */
  private take(text: string): boolean {
    const room = this.settings.maxReplyChars - this.replyChars;
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- the protocol counts characters as code points
    const points = [...text];
    const fits = points.length <= room;
    const piece = fits ? text : points.slice(0, room).join('');
    this.replyChars += fits ? points.length : room;
    if (piece) {
      this.reply += piece;
      this.pending += piece;
      this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
    }
    return fits && this.replyChars < this.settings.maxReplyChars;
  }

  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushing = this.flushing.then(async () => {
      if (!this.pending || this.storeError || this.abortReason === 'fenced') return;
      const text = this.pending;
      this.pending = '';
      try {
        const { signal } = await this.store.appendDelta(this.spec.chatId, this.spec.turnId, text);
        this.onSignal(signal);
      } catch (err) {
        this.storeError = isAppError(err) ? err : new AppError('store_unavailable', undefined, { cause: err });
        this.abortController.abort(err);
      }
    });
    return this.flushing;
  }

  private async renew(): Promise<void> {
    try {
      this.onSignal(await this.store.renewLease(this.spec.chatId, this.spec.turnId));
    } catch {
      // Redis away: the next write fails the turn, or the lease expires and the turn is repaired.
    }
  }

  private onSignal(signal: TurnSignal): void {
    if (signal === 'stop') this.abort('stop');
    else if (signal === 'fenced') this.abort('fenced');
  }

  private async end(failure: AppError | null, finishReason: FinishReason): Promise<void> {
    const { chatId, turnId, replaces } = this.spec;
    const isRegenerate = replaces !== null;
    const status: MessageStatus = failure
      ? failure.code === 'interrupted'
        ? 'interrupted'
        : 'error'
      : finishReason === 'stopped'
        ? 'stopped'
        : 'complete';
    const messageId = newId('m');
    // A failed regenerate stores nothing: the message it would replace stays.
    const message: Message | null =
      failure && isRegenerate
        ? null
        : { id: messageId, role: 'model', text: this.reply, createdAt: Date.now(), status };
    const frame: LiveFrame = failure
      ? turnErrorFrame(failure, chatId, turnId, message?.id)
      : { type: 'done', chatId, turnId, messageId, reply: this.reply, finishReason };
    try {
      const ok = await this.store.endTurn(chatId, { turnId, mode: 'owner', message, replaces, frame });
      if (!ok) this.log.warn('turn ended after its lease was lost; its result was not stored');
    } catch (err) {
      // The store is away: tell this replica's watchers; the turn record stays and is
      // repaired (taken over or marked interrupted) when the chat is next joined.
      this.log.warn({ err: (err as Error).message }, 'could not store the end of the turn');
      this.localFallback(turnErrorFrame(new AppError('store_unavailable'), chatId, turnId, undefined));
    }
  }
}

export function turnErrorFrame(
  err: AppError,
  chatId: string,
  turnId: string,
  messageId: string | undefined,
): ErrorFrame {
  const frame: ErrorFrame = {
    type: 'error',
    code: err.code,
    message: ErrorCodes[err.code].message,
    retryable: err.retryable,
    chatId,
    turnId,
  };
  if (messageId) frame.messageId = messageId;
  if (err.retryAfterMs !== undefined) frame.retryAfterMs = err.retryAfterMs;
  if (err.detail !== undefined) frame.detail = err.detail;
  return frame;
}

const LLM_CODES: ReadonlySet<ErrorCode> = new Set(['llm_rate_limited', 'llm_unavailable', 'llm_refused', 'interrupted', 'store_unavailable']);

function toTurnError(err: unknown, log: Logger): AppError {
  if (isAppError(err) && LLM_CODES.has(err.code)) return err;
  log.error({ err }, 'unexpected error in a turn');
  return new AppError('internal');
}
