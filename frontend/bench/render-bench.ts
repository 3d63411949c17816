/**
 * Render benchmark of the /chat page in headless Chromium (not a timed test: it prints
 * numbers and ratios measured in the same run, on the same machine).
 *
 * - open: a conversation of N stored messages rendered from an empty page (one
 *   `history` frame), per message, for N = 10, 100, 1000. Goal: per message, opening
 *   1,000 costs at most 2 × opening 100.
 * - delta: one streamed delta rendered and laid out, in a chat of 10 and of 1,000
 *   messages. Goal: the same time ±50%, and no stored bubble nor the list re-rendered.
 *
 * It builds its own page first (`vite build --mode bench`: bench.html into dist-bench/,
 * with the render counters; the production build has neither) and drives it through
 * `window.__chatBench` (src/bench/bench-hook.ts), without a server. Timings are
 * performance marks around synchronous React renders (flushSync) plus a forced layout.
 *
 *   npm run bench -w frontend            (tsx bench/render-bench.ts)
 *   npm run bench -w frontend -- --strict  exits 1 when a goal is missed
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { launchBrowser } from '@ai-chat/testkit/browser';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const dist = resolve(root, 'dist-bench');
const strict = process.argv.includes('--strict');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function serveDist(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(dist, path));
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) file = join(dist, 'bench.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () =>
      ok({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** What src/bench/bench-hook.ts exposes (declared here: this script runs in Node, the hook in the page). */
interface BenchResult {
  ms: number;
  renders: { messages: number; lists: number; streaming: number };
}
interface Bench {
  open(n: number): Promise<BenchResult>;
  startTurn(): Promise<void>;
  delta(text: string): Promise<BenchResult>;
}
declare const window: { __chatBench: Bench };

async function open(page: Page, n: number): Promise<BenchResult> {
  return page.evaluate((count) => window.__chatBench.open(count), n);
}

async function deltas(page: Page, n: number, count: number): Promise<{ ms: number[]; renders: BenchResult['renders'] }> {
  await open(page, n);
  await page.evaluate(() => window.__chatBench.startTurn());
  const ms: number[] = [];
  const renders = { messages: 0, lists: 0, streaming: 0 };
  for (let i = 0; i < count; i++) {
    // A sentence with some Markdown every few deltas, as answers stream.
    const text = i % 8 === 7 ? `\n\n- 항목 ${i}: **강조**와 \`code\`\n` : `응답의 ${i}번째 조각입니다. `;
    const r = await page.evaluate((t) => window.__chatBench.delta(t), text);
    if (i >= 5) ms.push(r.ms); // the first ones warm the renderer up
    renders.messages += r.renders.messages;
    renders.lists += r.renders.lists;
    renders.streaming += r.renders.streaming;
  }
  return { ms, renders };
}

async function main() {
  await build({ root, mode: 'bench', logLevel: 'warn' });
  const site = await serveDist();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${site.url}/bench.html`);
    await page.waitForFunction(() => (window as unknown as { __chatBench?: { ready: boolean } }).__chatBench?.ready === true);

    // Warm-up: JIT, the lazy Markdown and highlighter chunks, style caches.
    for (let i = 0; i < 3; i++) await open(page, 100);
    await deltas(page, 10, 20);

    const sizes = [10, 100, 1000];
    const repeats: Record<number, number> = { 10: 15, 100: 9, 1000: 5 };
    const openMs: Record<number, number> = {};
    for (const n of sizes) {
      const runs: number[] = [];
      for (let r = 0; r < repeats[n]!; r++) runs.push((await open(page, n)).ms);
      openMs[n] = median(runs);
    }

    const deltaRuns = 3;
    const deltaMs: Record<number, number> = {};
    const deltaRenders: Record<number, BenchResult['renders']> = {};
    for (const n of [10, 1000]) {
      const all: number[] = [];
      const renders = { messages: 0, lists: 0, streaming: 0 };
      for (let r = 0; r < deltaRuns; r++) {
        const d = await deltas(page, n, 60);
        all.push(...d.ms);
        renders.messages += d.renders.messages;
        renders.lists += d.renders.lists;
        renders.streaming += d.renders.streaming;
      }
      deltaMs[n] = median(all);
      deltaRenders[n] = renders;
    }

    const perMsg = (n: number) => openMs[n]! / n;
    const openRatio = perMsg(1000) / perMsg(100);
    const deltaRatio = deltaMs[1000]! / deltaMs[10]!;
    const rendersOk = [10, 1000].every((n) => deltaRenders[n]!.messages === 0 && deltaRenders[n]!.lists === 0);

    console.log('open a conversation (median, one history frame → rendered and laid out)');
    for (const n of sizes) {
      console.log(`  ${String(n).padStart(5)} messages: ${openMs[n]!.toFixed(1).padStart(8)} ms   ${(perMsg(n) * 1000).toFixed(0).padStart(6)} µs/message`);
    }
    console.log(`  per-message ratio 1000/100: ${openRatio.toFixed(2)}   (goal ≤ 2)   ${openRatio <= 2 ? 'OK' : 'MISSED'}`);
    console.log('one streamed delta (median of', deltaRuns * 55, 'deltas, rendered and laid out)');
    for (const n of [10, 1000]) {
      const r = deltaRenders[n]!;
      console.log(
        `  chat of ${String(n).padStart(4)}: ${deltaMs[n]!.toFixed(2).padStart(7)} ms   re-renders: stored bubbles ${r.messages}, list ${r.lists}, answer ${r.streaming}`,
      );
    }
    const deltaOk = deltaRatio >= 0.5 && deltaRatio <= 1.5;
    console.log(`  ratio 1000/10: ${deltaRatio.toFixed(2)}   (goal 0.5 to 1.5)   ${deltaOk ? 'OK' : 'MISSED'}`);
    console.log(`  only the answer being written re-rendered: ${rendersOk ? 'yes' : 'NO'}`);
    if (strict && !(openRatio <= 2 && deltaOk && rendersOk)) process.exitCode = 1;
  } finally {
    await browser.close();
    await site.close();
  }
}

await main();
