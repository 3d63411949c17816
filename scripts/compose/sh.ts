import { spawn } from 'node:child_process';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | NodeJS.ReadableStream;
  /** Print the command's output as it comes (long builds). */
  echo?: boolean;
  /** Resolve with the output even when the exit code is not 0. */
  allowFail?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  out: string;
}

/** Runs a command without a shell; rejects on a non-zero exit with its last output. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const collect = (chunk: Buffer): void => {
      out += chunk.toString();
      if (options.echo) process.stdout.write(chunk.toString().replace(/^/gm, '    '));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    if (typeof options.input === 'string') child.stdin?.end(options.input);
    else if (options.input && child.stdin) options.input.pipe(child.stdin);
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const result = { code: code ?? -1, out };
      if (result.code === 0 || options.allowFail) resolve(result);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${out.slice(-3000)}`));
    });
  });
}

export async function which(command: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${command}`], { allowFail: true })).code === 0;
}
