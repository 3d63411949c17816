import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The programs the tests start, the Debian package of each, and the variable that skips their tests. */
const PROGRAMS = {
  'redis-server': { override: 'REDIS_SERVER_BIN', apt: 'redis-server', skipVar: 'SKIP_REDIS' },
  'redis-cli': { override: 'REDIS_CLI_BIN', apt: 'redis-server', skipVar: 'SKIP_REDIS' },
  chromium: { override: 'CHROMIUM_PATH', apt: 'chromium', skipVar: 'SKIP_BROWSER' },
  nginx: { override: 'NGINX_BIN', apt: 'nginx', skipVar: 'SKIP_NGINX' },
} as const;

export type Program = keyof typeof PROGRAMS;

/** Where `name` is: its override variable, else the first match on PATH, /usr/sbin or /sbin. */
export function findBinary(name: Program): string | undefined {
  const override = process.env[PROGRAMS[name].override];
  if (override) return existsSync(override) ? override : undefined;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The path of `name`, or an error saying how to install it (or skip what needs it). */
export function requireBinary(name: Program): string {
  const found = findBinary(name);
  if (found) return found;
  const p = PROGRAMS[name];
  throw new Error(
    `${name} is not installed. \`npm test\` installs what the tests need; by hand: ` +
      `sudo apt-get install -y --no-install-recommends ${p.apt} (or set ${p.override}, or ${p.skipVar}=1 to skip these tests)`,
  );
}
