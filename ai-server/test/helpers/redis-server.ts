import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerHandle {
  url: string;
  port: number;
  /** Graceful stop (SHUTDOWN NOSAVE is not used: the AOF keeps what was written). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

export function redisServerAvailable(): boolean {
  return existsSync(BINARY);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
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
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a real `redis-server` on a free loopback port, with AOF on (appendfsync always, so
 * a kill loses nothing in tests) in a temporary directory removed by `stop()`.
 */
export async function startRedisServer(): Promise<RedisServerHandle> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  let child: ChildProcess | null = null;

  const launch = async () => {
    child = spawn(
      BINARY,
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--dir', dir,
        '--appendonly', 'yes',
        '--appendfsync', 'always',
        '--save', '',
        '--maxmemory-policy', 'noeviction',
        '--loglevel', 'warning',
      ],
      { stdio: 'ignore' },
    );
    await waitForPing(port, 10_000);
  };
  const exited = () =>
    new Promise<void>((resolve) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
    });

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      child?.kill('SIGKILL');
      await exited();
    },
    async restart() {
      await launch();
    },
    async stop() {
      child?.kill('SIGTERM');
      await exited();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Redis a suite shares: `REDIS_URL` when set, else a container where a container
 * runtime answers, else a `redis-server` started here. Suites use a unique key prefix each.
 * Returns null when none can be had (the suite then reports itself skipped).
 */
export async function sharedRedis(): Promise<{ url: string; stop(): Promise<void> } | null> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const container = await tryContainer();
  if (container) return container;
  if (!redisServerAvailable()) return null;
  return startRedisServer();
}

async function tryContainer(): Promise<{ url: string; stop(): Promise<void> } | null> {
  // Only where a container runtime is plausible; probing costs seconds otherwise.
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return null;
  try {
    const { RedisContainer } = await import('@testcontainers/redis');
    const c = await new RedisContainer('redis:7-alpine').start();
    return { url: c.getConnectionUrl(), stop: async () => void (await c.stop()) };
  } catch {
    return null;
  }
}
