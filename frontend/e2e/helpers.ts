/**
 * What the browser tests start: the real ai-server (its build, `ai-server/dist/main.js`)
 * serving the built page (`frontend/dist`), through the test kit's launchers; and what
 * the tests read of the page.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { vi } from 'vitest';
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

// ---- the page as a visitor sees it ------------------------------------------------------

export interface Bubble {
  role: string;
  status: string;
  text: string;
}

export async function bubbles(page: Page): Promise<Bubble[]> {
  return page.$$eval('[data-testid="message"]', (els) =>
    els.map((el) => ({
      role: (el as HTMLElement).dataset.role ?? '',
      status: (el as HTMLElement).dataset.status ?? '',
      text: (el.querySelector('.msg__bubble')?.textContent ?? '').trim(),
    })),
  );
}

export async function waitForBubbles(page: Page, check: (b: Bubble[]) => void, timeout = 15_000): Promise<Bubble[]> {
  let last: Bubble[] = [];
  await vi.waitFor(
    async () => {
      last = await bubbles(page);
      check(last);
    },
    { timeout, interval: 100 },
  );
  return last;
}

export async function waitForConnection(page: Page, state: 'open' | 'reconnecting' | 'offline' | 'connecting', timeout = 30_000) {
  await page.locator(`[data-testid="connection-status"][data-state="${state}"]`).waitFor({ timeout });
}

export async function send(page: Page, text: string) {
  const input = page.getByTestId('chat-input');
  await input.fill(text);
  await input.press('Enter');
}
