import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Component and unit tests: jsdom, Testing Library. The browser tests (real Chromium
// against the real ai-server) have their own config: vitest.e2e.config.ts.
export default defineConfig({
  plugins: [react()],
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'jsdom',
    restoreMocks: true,
  },
});
