/**
 * What the browser tests start: the real ai-server (its build, `ai-server/dist/main.js`)
 * serving the built page (`frontend/dist`), through the test kit's launchers.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReplica, type ReplicaProcess } from '@ai-chat/testkit/replica';

const here = dirname(fileURLToPath(import.meta.url));
const frontendDir = resolve(here, '..');
const distDir = join(frontendDir, 'dist');
/** Screenshots go here (git-ignored). */
const resultsDir = join(frontendDir, 'test-results');

/** ai-server serving the built page, with the limits set off: the tests send faster than people do. */
export async function startPageServer(env: Record<string, string | undefined>): Promise<ReplicaProcess> {
  if (!existsSync(join(distDir, 'index.html'))) throw new Error(`${distDir} is not built: npm run build -w frontend`);
  return startReplica({
    NODE_ENV: 'test',
    STATIC_DIR: distDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    CHAT_RATE_LIMIT_PER_MINUTE: '0',
    SHUTDOWN_GRACE_MS: '1000',
    ...env,
  });
}

export function screenshotPath(name: string): string {
  mkdirSync(resultsDir, { recursive: true });
  return join(resultsDir, name);
}
