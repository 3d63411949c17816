/**
 * What the browser tests start: the real ai-server (its build, `ai-server/dist/main.js`)
 * serving the built page (`frontend/dist`), and headless Chromium through playwright-core
 * with Debian's `/usr/bin/chromium`. Redis and the Gemini stub come from ai-server's test
 * helpers (the same ones every suite uses).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const frontendDir = resolve(here, '..');
export const repoRoot = resolve(frontendDir, '..');
export const serverEntry = join(repoRoot, 'ai-server', 'dist', 'main.js');
export const distDir = join(frontendDir, 'dist');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots go here (git-ignored). */
export const resultsDir = join(frontendDir, 'test-results');

/** Why the browser tests cannot run here, or null when they can. */
export function missingForBrowserTests(): string | null {
  if (!existsSync(chromiumPath)) return `${chromiumPath} is missing (apt-get install chromium fonts-noto-cjk)`;
  if (!existsSync(serverEntry)) return `${serverEntry} is missing (npm run build -w ai-server)`;
  if (!existsSync(join(distDir, 'index.html'))) return `${distDir} is not built (npm run build -w frontend)`;
  if (!existsSync(process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server')) return 'redis-server is missing';
  return null;
}

export interface AiServer {
  readonly port: number;
  readonly url: string;
  /** The process's output so far (for failure messages). */
  output(): string;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful drain. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same environment. */
  restart(): Promise<void>;
}

export async function startAiServer(port: number, env: Record<string, string | undefined>): Promise<AiServer> {
  let child: ChildProcess | null = null;
  let out = '';

  const launch = async () => {
    out = '';
    const fullEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      PORT: String(port),
      STATIC_DIR: distDir,
      LOG_LEVEL: 'warn',
      // The tests send faster than people do.
      RATE_LIMIT_PER_MINUTE: '0',
      CHAT_RATE_LIMIT_PER_MINUTE: '0',
      SHUTDOWN_GRACE_MS: '1000',
    };
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete fullEnv[k];
      else fullEnv[k] = v;
    }
    const c = spawn(process.execPath, [serverEntry], { cwd: repoRoot, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, 20_000, () => c.exitCode !== null || c.signalCode !== null, () => out);
  };
  const exited = () =>
    new Promise<void>((res) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return res();
      c.once('exit', () => res());
    });

  await launch();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    async kill() {
      child?.kill('SIGKILL');
      await exited();
    },
    async stop() {
      child?.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited();
      clearTimeout(timer);
    },
    restart: launch,
  };
}

async function waitForHttp(url: string, timeoutMs: number, died: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (died()) throw new Error(`ai-server exited while starting:\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (${last}):\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Browser {
  context: BrowserContext;
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'chat-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    locale: 'ko-KR',
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  return {
    context,
    async newPage(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(resultsDir, { recursive: true });
  return join(resultsDir, name);
}
