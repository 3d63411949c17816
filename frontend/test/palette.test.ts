// @vitest-environment node
/**
 * One palette: src/palette.ts is the only file with colour literals. chat.css, the
 * components' styles and the HTML use the theme's CSS variables, and every variable
 * chat.css names is one the theme really emits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { theme } from '../src/theme';

const root = fileURLToPath(new URL('..', import.meta.url));
const COLOUR_LITERAL = /#[0-9a-f]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch)\(/gi;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : /\.(tsx?|css)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('the palette', () => {
  it('is the only place a colour is written', () => {
    const sources = [...filesUnder(join(root, 'src')), join(root, 'index.html'), join(root, 'bench.html')]
      .map((f) => relative(root, f))
      .filter((f) => f !== 'src/palette.ts');
    expect(sources).toEqual(expect.arrayContaining(['src/components/ChatPanel/chat.css', 'src/pages/AIChatPage/ChatLayout.tsx']));
    const found = sources.flatMap((f) => (readFileSync(join(root, f), 'utf8').match(COLOUR_LITERAL) ?? []).map((m) => `${f}: ${m}`));
    expect(found).toEqual([]);
  });

  it('chat.css uses only variables the theme emits', () => {
    const emitted = new Set(JSON.stringify(theme.generateStyleSheets()).match(/--mui-palette-[\w-]+/g));
    const css = readFileSync(join(root, 'src/components/ChatPanel/chat.css'), 'utf8');
    const used = [...new Set([...css.matchAll(/var\((--[\w-]+)/g)].map((m) => m[1]!))];
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((v) => !emitted.has(v))).toEqual([]);
  });
});
