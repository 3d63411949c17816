import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { freePort } from './ports.js';
import { startAndWait, type ManagedProcess } from './process.js';
import { skip } from './skips.js';

export interface RedisServerHandle {
  url: string;
  port: number;
  /** Its data directory (removed by `stop()`). */
  dir: string;
  /** Its output so far. */
  output(): string;
  /** Graceful stop (SIGTERM: the AOF keeps what was written); removes the data directory. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /**
   * The text of a redis.conf to start it with, given the port and data directory.
   * Default: AOF on with `appendfsync always` (a kill loses nothing in tests), no RDB
   * snapshots, noeviction, on 127.0.0.1.
   */
  config?: (where: { port: number; dir: string }) => string;
}

/** Whether redis-server answers `PING` on 127.0.0.1:`port`. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.setTimeout(500);
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    sock.on('error', () => resolve(false));
    sock.on('timeout', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/** Starts a real `redis-server` on a free loopback port, in a temporary data directory. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const binary = requireBinary('redis-server');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  let args: string[];
  if (options.config) {
    const file = join(dir, 'redis.conf');
    writeFileSync(file, options.config({ port, dir }));
    args = [file];
  } else {
    args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--appendonly', 'yes',
      '--appendfsync', 'always',
      '--save', '',
      '--maxmemory-policy', 'noeviction',
      '--loglevel', 'warning',
    ];
  }
  let proc: ManagedProcess;
  const launch = async () => {
    proc = await startAndWait(binary, args, { what: `redis-server on port ${port}`, ready: () => answersPing(port) });
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    output: () => proc.output(),
    async kill() {
      await proc.stop('SIGKILL');
    },
    restart: launch,
    async stop() {
      await proc.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Redis a suite shares: `REDIS_URL` when set, else a container where a container
 * runtime answers, else a `redis-server` started here (an error when none is installed).
 * Suites use a unique key prefix each. Null only when `SKIP_REDIS` is set: the suite then
 * reports itself skipped.
 */
export async function sharedRedis(): Promise<{ url: string; stop(): Promise<void> } | null> {
  if (skip.redis) return null;
  // An outside Redis is not this suite's to stop.
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => Promise.resolve() };
  const container = await tryContainer();
  if (container) return container;
  return startRedisServer();
}

async function tryContainer(): Promise<{ url: string; stop(): Promise<void> } | null> {
  // Only where a container runtime is plausible; probing costs seconds otherwise.
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return null;
  try {
    const { RedisContainer } = await import('@testcontainers/redis');
    const c = await new RedisContainer('redis:7-alpine').start();
    return {
      url: c.getConnectionUrl(),
      stop: async () => {
        await c.stop();
      },
    };
  } catch {
    return null;
  }
}
