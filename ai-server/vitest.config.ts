import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start their own redis-server and ai-server processes on free ports;
    // two cores: keep the parallelism modest so timing-sensitive tests stay honest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
