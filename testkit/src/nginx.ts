import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { freePort, portOpen } from './ports.js';
import { startAndWait } from './process.js';

export interface NginxHandle {
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  /** A temporary directory for the site's files (removed by `stop()`). */
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a real nginx, in the foreground and as the current user, serving one `server`
 * block: `site` returns it given the free port to listen on and a temporary directory
 * (for a document root, say), which `prepare` may fill before nginx starts.
 */
export async function startNginx(
  site: (where: { port: number; dir: string }) => string,
  prepare?: (dir: string) => void,
): Promise<NginxHandle> {
  const binary = requireBinary('nginx');
  const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
  chmodSync(dir, 0o755); // workers may run as another user when the tests run as root
  const port = await freePort();
  mkdirSync(join(dir, 'tmp'));
  prepare?.(dir);
  writeFileSync(join(dir, 'site.conf'), site({ port, dir }));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, 'tmp', t)};`).join('\n  ');
  const mime = existsSync('/etc/nginx/mime.types') ? 'include /etc/nginx/mime.types;' : '';
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log stderr;\ndaemon off;\nevents {}\n` +
      `http {\n  ${mime}\n  default_type application/octet-stream;\n  access_log off;\n  ${temp}\n  include ${join(dir, 'site.conf')};\n}\n`,
  );
  const proc = await startAndWait(binary, ['-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
    what: `nginx on port ${port}`,
    ready: () => portOpen(port),
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    output: () => proc.output(),
    async stop() {
      await proc.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
