import { defineConfig } from 'vitest/config';
import { defaultClientConditions } from 'vite';
import react from '@vitejs/plugin-react';

// Component and unit tests: jsdom, Testing Library; test/: checks of the build and the
// sources (Node, `@vitest-environment node`). The browser tests (real Chromium
// against the real ai-server) have their own config: vitest.e2e.config.ts.
export default defineConfig({
  plugins: [react()],
  // The render counters (src/lib/render-stats.ts) are on in tests, as in the benchmark's build.
  define: { __RENDER_STATS__: 'true' },
  // @ai-chat/protocol from its sources: the tests see its latest edit without a build.
  resolve: { conditions: ['@ai-chat/source', ...defaultClientConditions] },
  test: {
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
    environment: 'jsdom',
    restoreMocks: true,
  },
});
