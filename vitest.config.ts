import { defineConfig } from 'vitest/config';

// Three projects: unit (pure, fast), integration (real PostgreSQL, Redis, slapd on loopback),
// e2e (the built `tether` process over real HTTP). Each integration/e2e file makes its own database
// and Redis key prefix, so files run in parallel and never see each other's (or an earlier run's) state.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 } },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 90_000, fileParallelism: false } },
    ],
  },
});
