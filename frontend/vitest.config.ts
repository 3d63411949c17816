import { defineConfig } from 'vitest/config';
import { defaultClientConditions } from 'vite';
import react from '@vitejs/plugin-react';

// Component and unit tests: jsdom, Testing Library. The browser tests (real Chromium
// against the real ai-server) have their own config: vitest.e2e.config.ts.
export default defineConfig({
  plugins: [react()],
  // @ai-chat/protocol from its sources: the tests see its latest edit without a build.
  resolve: { conditions: ['@ai-chat/source', ...defaultClientConditions] },
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'jsdom',
    restoreMocks: true,
  },
});
