import { defineConfig } from 'vitest/config';

// Browser tests: headless Chromium (playwright-core + Debian's /usr/bin/chromium)
// against the real ai-server serving the built page, real Redis and the Gemini stub.
// One worker: each file starts its own servers and a browser; two cores are not more.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
