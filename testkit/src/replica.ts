import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { httpOk, startAndWait, type ManagedProcess } from './process.js';

/** The built entry point of ai-server, the one its Docker image runs too. */
const SERVER_ENTRY = fileURLToPath(new URL('../../ai-server/dist/main.js', import.meta.url));
/** The repository's root (the working directory of a replica). */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ReplicaProcess {
  readonly port: number;
  /** The WebSocket endpoint, ws://127.0.0.1:port/ws-chat. */
  readonly url: string;
  /** http://127.0.0.1:port */
  readonly httpUrl: string;
  /** The process running now (a new one after `restart`). */
  readonly process: ManagedProcess;
  /** Everything the running process wrote (pino JSON lines). */
  output(): string;
  /** Resolves with the running process's exit code. */
  readonly exited: Promise<number | null>;
  /** Sends a signal, without waiting (SIGTERM: a graceful drain). */
  kill(signal?: NodeJS.Signals): void;
  /** SIGKILL, as a crash, and waits for the exit. */
  crash(): Promise<void>;
  /** SIGTERM, SIGKILL after 10 s, and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same environment. */
  restart(): Promise<void>;
}

/**
 * Starts `node ai-server/dist/main.js` as a child process on 127.0.0.1 and waits until
 * /readyz answers. `env` adds to (or, with undefined, removes from) a minimal environment:
 * PATH, HOME, PORT, HOST=127.0.0.1, LOG_LEVEL=info, STATIC_DIR= (no page), and the rate
 * limits off (tests send many messages from one address within seconds; a test of the
 * limits sets them).
 */
export async function startReplica(env: Record<string, string | undefined>, port?: number): Promise<ReplicaProcess> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: npm run build -w ai-server`);
  const p = port ?? (await freePort());
  const httpUrl = `http://127.0.0.1:${p}`;
  const minimal: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(p),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    STATIC_DIR: '',
    RATE_LIMIT_PER_MINUTE: '0',
    CHAT_RATE_LIMIT_PER_MINUTE: '0',
    READ_RATE_LIMIT_PER_SECOND: '0',
  };
  const fullEnv: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries({ ...minimal, ...env }).filter(([, v]) => v !== undefined),
  );
  const launch = () =>
    startAndWait(process.execPath, [SERVER_ENTRY], {
      cwd: REPO_ROOT,
      env: fullEnv,
      what: `ai-server on port ${p}`,
      timeoutMs: 20_000,
      ready: httpOk(`${httpUrl}/readyz`),
    });
  let proc = await launch();
  return {
    port: p,
    url: `ws://127.0.0.1:${p}/ws-chat`,
    httpUrl,
    get process() {
      return proc;
    },
    output: () => proc.output(),
    get exited() {
      return proc.exited;
    },
    kill: (signal = 'SIGTERM') => void proc.child.kill(signal),
    crash: () => proc.stop('SIGKILL'),
    stop: () => proc.stop('SIGTERM', 10_000),
    async restart() {
      proc = await launch();
    },
  };
}
