// @vitest-environment node
/**
 * The page users get holds nothing of the render benchmark: the production build (the
 * same config as `npm run build`, kept in memory) has no module of src/bench/ nor the
 * render counters, and no chunk mentions the benchmark's handle. The benchmark's own
 * build is checked the same way and must have them, so the check is known to see them.
 */
import { fileURLToPath } from 'node:url';
import { build, type Rolldown } from 'vite';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Built {
  /** Every source module rendered into a chunk, relative to the frontend folder. */
  modules: string[];
  /** Every emitted file (chunks and assets) with its text. */
  files: { name: string; text: string }[];
}

async function buildInMemory(mode: 'production' | 'bench'): Promise<Built> {
  const result = await build({ root, mode, logLevel: 'silent', build: { write: false } });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  const modules: string[] = [];
  const files: Built['files'] = [];
  for (const item of outputs.flatMap((o) => o.output)) {
    if (item.type === 'chunk') {
      for (const [id, m] of Object.entries(item.modules)) if (m.renderedLength > 0) modules.push(id.replace(root, ''));
      files.push({ name: item.fileName, text: item.code });
    } else {
      files.push({ name: item.fileName, text: typeof item.source === 'string' ? item.source : new TextDecoder().decode(item.source) });
    }
  }
  return { modules, files };
}

const BENCH_MODULES = /^src\/bench\/|^src\/lib\/render-stats\.ts$/;
const BENCH_TEXT = ['__chatBench', 'bench-hook', 'chat-delta'];

describe('the production bundle', () => {
  it('has no benchmark hook, no render counters, and no mention of them', async () => {
    const { modules, files } = await buildInMemory('production');
    expect(modules).toContain('src/main.tsx');
    expect(modules.filter((m) => BENCH_MODULES.test(m))).toEqual([]);
    for (const word of BENCH_TEXT) expect(files.filter((f) => f.text.includes(word)).map((f) => f.name), word).toEqual([]);
    expect(files.map((f) => f.name).filter((n) => n.includes('bench'))).toEqual([]);
  }, 120_000);

  it('while the benchmark’s own build has them (so the check above can see them)', async () => {
    const { modules, files } = await buildInMemory('bench');
    expect(modules).toEqual(expect.arrayContaining(['src/bench/main.tsx', 'src/bench/bench-hook.ts', 'src/lib/render-stats.ts']));
    expect(files.some((f) => f.text.includes('__chatBench'))).toBe(true);
  }, 120_000);
});
