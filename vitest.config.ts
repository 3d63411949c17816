import { defineConfig } from 'vitest/config';

// Root suite: repository-level checks (deployment files). The workspaces keep their own
// configs (ai-server/vitest.config.ts, frontend/vitest.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
