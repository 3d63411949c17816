import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { palette } from './src/palette.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

// `npm run dev`: the page on Vite's dev server, the socket proxied to an ai-server
// running beside it (AI_SERVER_URL, default http://localhost:3001), so the page
// keeps using its same-origin `/ws-chat` exactly as in production.
const aiServer = process.env.AI_SERVER_URL ?? 'http://localhost:3001';

// index.html paints the page's background before the JS (and the theme) arrive: the
// colour comes from the palette, like every other.
const pageBackground: Plugin = {
  name: 'page-background',
  transformIndexHtml: (html) => html.replaceAll('$PAGE_BACKGROUND', palette.background.default),
};

// Mode `bench` (bench/render-bench.ts builds it): the render benchmark's own page,
// bench.html, into dist-bench/, with the render counters compiled in. Every other
// build has `__RENDER_STATS__` false, so the counters and their module are removed.
export default defineConfig(({ command, mode }) => {
  const bench = mode === 'bench';
  return {
    plugins: [react(), pageBackground],
    define: { __RENDER_STATS__: JSON.stringify(bench) },
    resolve: {
      // The dev server reads @ai-chat/protocol from its sources (edits show at once); a
      // build uses its compiled package, as ai-server does.
      conditions: command === 'serve' ? ['@ai-chat/source', ...defaultClientConditions] : [...defaultClientConditions],
    },
    server: {
      port: Number(process.env.VITE_PORT ?? 5173),
      proxy: {
        '/ws-chat': { target: aiServer.replace(/^http/, 'ws'), ws: true, changeOrigin: true },
        '/healthz': { target: aiServer },
        '/readyz': { target: aiServer },
      },
    },
    preview: {
      proxy: {
        '/ws-chat': { target: aiServer.replace(/^http/, 'ws'), ws: true, changeOrigin: true },
      },
    },
    build: {
      outDir: bench ? 'dist-bench' : 'dist',
      emptyOutDir: true,
      sourcemap: false,
      ...(bench ? { rolldownOptions: { input: resolve(here, 'bench.html') } } : {}),
      // The initial chunk is what every visitor downloads before seeing the page; the
      // Markdown renderer and the syntax highlighter are split out by dynamic imports.
      chunkSizeWarningLimit: 600,
    },
  };
});
