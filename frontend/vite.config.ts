import { defineConfig, defaultClientConditions } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev`: the page on Vite's dev server, the socket proxied to an ai-server
// running beside it (AI_SERVER_URL, default http://localhost:3001), so the page
// keeps using its same-origin `/ws-chat` exactly as in production.
const aiServer = process.env.AI_SERVER_URL ?? 'http://localhost:3001';

export default defineConfig(({ command }) => ({
  plugins: [react()],
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
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // The initial chunk is what every visitor downloads before seeing the page; the
    // Markdown renderer and the syntax highlighter are split out by dynamic imports.
    chunkSizeWarningLimit: 600,
  },
}));
