import { AppError } from '../errors.js';
import { metrics } from '../metrics/metrics.js';
import type { ChatStore } from '../store/chat-store.js';
import type { RateRule } from '../store/rate-limit.js';

export interface RateLimitSettings {
  /** Messages (send, regenerate) per client address and minute; 0: off. */
  rateLimitPerMinute: number;
  rateLimitBurst: number;
  /** Messages per chat and minute; 0: off. */
  chatRateLimitPerMinute: number;
  /** Reads (join) per client address and second, over all its sockets; 0: off. */
  readRateLimitPerSecond: number;
  readRateLimitBurst: number;
}

/** A chat's burst: ten seconds' worth of its rate, at least one message. */
const CHAT_BURST_SECONDS = 10;

function rule(perPeriod: number, periodMs: number, burst: number): RateRule | null {
  if (perPeriod <= 0) return null;
  return { intervalMs: Math.max(1, Math.ceil(periodMs / perPeriod)), burst: Math.max(1, burst) };
}

/**
 * The rate limits of protocol v1, shared by every replica through the store: messages per
 * client address and per chat, reads per client address. A refusal is `rate_limited` with
 * `retryAfterMs`, and takes nothing from the other budgets.
 */
export class RateLimits {
  private readonly client: RateRule | null;
  private readonly chat: RateRule | null;
  private readonly read: RateRule | null;

  constructor(
    private readonly store: ChatStore,
    settings: RateLimitSettings,
  ) {
    this.client = rule(settings.rateLimitPerMinute, 60_000, settings.rateLimitBurst);
    this.chat = rule(
      settings.chatRateLimitPerMinute,
      60_000,
      Math.ceil((settings.chatRateLimitPerMinute * CHAT_BURST_SECONDS) / 60),
    );
    this.read = rule(settings.readRateLimitPerSecond, 1000, settings.readRateLimitBurst);
  }

  /**
   * Before a message is stored. A resend of a recorded `clientMsgId` is let through
   * uncounted (it is answered as a duplicate and stores nothing); anything else takes a
   * token of the client's budget, then of the chat's.
   */
  async beforeMessage(client: string, chatId: string, clientMsgId: string | null): Promise<void> {
    if (!this.client && !this.chat) return;
    if (clientMsgId !== null && (await this.store.isRecorded(chatId, clientMsgId))) return;
    if (this.client) await this.take(`msg:client:${client}`, this.client, 'rate_limit_client', 'Too many messages from this client; retry later.');
    if (this.chat) await this.take(`msg:chat:${chatId}`, this.chat, 'rate_limit_chat', 'Too many messages in this chat; retry later.');
  }

  /** Before a read (join): one token of the client's read budget. */
  async beforeRead(client: string): Promise<void> {
    if (this.read) await this.take(`read:client:${client}`, this.read, 'rate_limit_read', 'Too many reads from this client; retry later.');
  }

  private async take(key: string, rule: RateRule, reason: string, message: string): Promise<void> {
    const retryAfterMs = await this.store.takeToken(key, rule);
    if (retryAfterMs > 0) metrics.refused(reason);
    if (retryAfterMs > 0) throw new AppError('rate_limited', message, { retryAfterMs: Math.ceil(retryAfterMs) });
  }
}
