import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { note, onCleanUp } from './steps.js';
import { run, which } from './sh.js';

/**
 * Debian's docker client: with DOCKER_BUILDKIT=1 it builds with BuildKit against the
 * engine of the `docker.io` package (a newer client elsewhere on PATH may not).
 */
export const DOCKER = '/usr/bin/docker';

/** The environment of every docker and docker-compose call: BuildKit, Debian's client first on PATH. */
export const dockerEnv: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `/usr/bin:/usr/sbin:${process.env.PATH ?? ''}`,
  DOCKER_BUILDKIT: '1',
  COMPOSE_DOCKER_CLI_BUILD: '1',
};

export const docker = (args: readonly string[], options: Parameters<typeof run>[2] = {}) =>
  run(DOCKER, args, { env: dockerEnv, ...options });

/** Installs Debian's docker.io, docker-compose and debootstrap when one is missing. */
export async function installTools(): Promise<void> {
  const missing: string[] = [];
  if (!(await which('dockerd')) || !(await which(DOCKER))) missing.push('docker.io');
  if (!(await which('docker-compose'))) missing.push('docker-compose');
  if (!(await which('debootstrap'))) missing.push('debootstrap');
  if (missing.length === 0) {
    note('docker.io, docker-compose and debootstrap are installed');
    return;
  }
  note(`installing ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

const engineAnswers = async (): Promise<boolean> =>
  (await docker(['version', '--format', '{{.Server.Version}}'], { allowFail: true, timeoutMs: 5000 })).code === 0;

/** Starts dockerd unless an engine answers; stops it again at clean-up when it started it. */
export async function ensureEngine(logFile: string): Promise<void> {
  if (await engineAnswers()) {
    note('an engine answers already');
    return;
  }
  const log = openSync(logFile, 'a');
  const dockerd = spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log], env: dockerEnv });
  dockerd.unref();
  const exited = new Promise<void>((resolve) => dockerd.once('exit', () => resolve()));
  onCleanUp(`stop dockerd (pid ${dockerd.pid})`, async () => {
    dockerd.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  });
  const deadline = Date.now() + 30_000;
  while (!(await engineAnswers())) {
    if (dockerd.exitCode !== null || Date.now() > deadline) throw new Error(`dockerd did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  note(`dockerd started (pid ${dockerd.pid}), log in ${logFile}`);
}
