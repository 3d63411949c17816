import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The replica's Prometheus metrics, served at /metrics. One registry per process: the
 * process metrics (CPU, memory, event-loop lag, GC) and the chat's own, all prefixed
 * `aichat_` except the process ones (`process_*`, `nodejs_*`).
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const openSockets = new Gauge({
  name: 'aichat_open_sockets',
  help: 'WebSocket connections open on this replica.',
  registers: [registry],
});
const turns = new Counter({
  name: 'aichat_turns_total',
  help: 'Turns ended by this replica, by finish reason (error: the turn failed; see aichat_error_frames_total).',
  labelNames: ['finish_reason'] as const,
  registers: [registry],
});
const errorFrames = new Counter({
  name: 'aichat_error_frames_total',
  help: 'error frames sent to sockets, by code.',
  labelNames: ['code'] as const,
  registers: [registry],
});
const timeToFirstToken = new Histogram({
  name: 'aichat_time_to_first_token_seconds',
  help: 'From the start of a turn to the first piece of model text.',
  buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32],
  registers: [registry],
});
const turnDuration = new Histogram({
  name: 'aichat_turn_duration_seconds',
  help: 'From the start of a turn to its end.',
  buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128],
  registers: [registry],
});
const deltasSent = new Counter({
  name: 'aichat_deltas_sent_total',
  help: 'delta frames sent to sockets.',
  registers: [registry],
});
const takeovers = new Counter({
  name: 'aichat_takeovers_total',
  help: 'Orphaned turns (their replica died) taken over and continued by this replica.',
  registers: [registry],
});
const refusals = new Counter({
  name: 'aichat_refusals_total',
  help: 'Requests refused by a rate limit or a cap, by reason.',
  labelNames: ['reason'] as const,
  registers: [registry],
});
const redisCommandDuration = new Histogram({
  name: 'aichat_redis_command_duration_seconds',
  help: 'Redis command (script) latency, failed ones included.',
  labelNames: ['command'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
  registers: [registry],
});
const redisFailures = new Counter({
  name: 'aichat_redis_failures_total',
  help: 'Failed Redis commands, by kind: unavailable (unreachable, timed out, busy, read-only), script (a script error); out of memory is aichat_redis_out_of_memory_total.',
  labelNames: ['kind'] as const,
  registers: [registry],
});
const redisOutOfMemory = new Counter({
  name: 'aichat_redis_out_of_memory_total',
  help: 'Redis commands refused because Redis reached maxmemory (OOM): nothing more can be stored until memory is freed.',
  registers: [registry],
});

/** What the server records; every name here is exposed at /metrics from the start. */
export const metrics = {
  socketOpened(): void {
    openSockets.inc();
  },
  socketClosed(): void {
    openSockets.dec();
  },
  /** A frame sent to a socket: counts deltas and errors. */
  frameSent(frame: { type?: string; code?: string }): void {
    if (frame.type === 'delta') deltasSent.inc();
    else if (frame.type === 'error' && frame.code !== undefined) errorFrames.inc({ code: frame.code });
  },
  /** A turn ended: its finish reason (or `error`), time to first token (null: no text) and duration. */
  turnEnded(finishReason: string, ttftMs: number | null, durationMs: number): void {
    turns.inc({ finish_reason: finishReason });
    if (ttftMs !== null) timeToFirstToken.observe(ttftMs / 1000);
    turnDuration.observe(durationMs / 1000);
  },
  takeover(): void {
    takeovers.inc();
  },
  /**
   * A request refused by a rate limit or a cap. `reason` names which one, e.g.
   * `rate_limit_client`, `rate_limit_chat`, `rate_limit_read`, `max_connections`,
   * `max_connections_per_client`, `max_chats_per_socket`, `buffer_budget`.
   */
  refused(reason: string): void {
    refusals.inc({ reason });
  },
  redisCommand(command: string, seconds: number): void {
    redisCommandDuration.observe({ command }, seconds);
  },
  redisFailure(kind: 'unavailable' | 'script' | 'out_of_memory'): void {
    if (kind === 'out_of_memory') redisOutOfMemory.inc();
    else redisFailures.inc({ kind });
  },
};
