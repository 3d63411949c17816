import { spawn, type ChildProcess } from 'node:child_process';

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null after a signal) once its output is read to the end. */
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** Sends `signal`, then SIGKILL after `graceMs`, and waits for the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface ProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Spawns `command` with its output kept, to show when it fails. */
export function startProcess(command: string, args: readonly string[], options: ProcessOptions = {}): ManagedProcess {
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      out += `${String(err)}\n`;
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    child,
    output: () => out,
    exited,
    running,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (running()) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface WaitOptions {
  /** What is awaited, for the error message. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** Fail at once, with its output, when this process exits first. */
  process?: ManagedProcess;
}

/** Polls `check` until it returns true; a check that throws counts as not yet. */
export async function waitUntil(check: () => boolean | Promise<boolean>, options: WaitOptions): Promise<void> {
  const { what, timeoutMs = 10_000, intervalMs = 50, process: proc } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    if (proc && !proc.running()) {
      const code = await proc.exited;
      throw new Error(`${what}: the process exited (${String(code ?? proc.child.signalCode)}) first:\n${proc.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${proc ? `:\n${proc.output()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Starts a process and waits until `ready` says so; stops it when it never does. */
export async function startAndWait(
  command: string,
  args: readonly string[],
  options: ProcessOptions & Omit<WaitOptions, 'process'> & { ready: () => boolean | Promise<boolean> },
): Promise<ManagedProcess> {
  const proc = startProcess(command, args, options);
  try {
    await waitUntil(options.ready, { ...options, process: proc });
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return proc;
}

/** A readiness check: `url` answers 2xx. */
export const httpOk = (url: string) => async (): Promise<boolean> => (await fetch(url)).ok;
