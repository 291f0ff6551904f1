import { defineConfig } from 'vitest/config';

/**
 * The tests `npm run mutate` runs against each mutant: the fast files that exercise the engine
 * and the HTTP error path. Same global setup (embedded PostgreSQL) as the full suite.
 */
export default defineConfig({
  test: {
    include: [
      'test/sweep.test.ts',
      'test/engine/**/*.test.ts',
      'test/run-state.test.ts',
      'test/precise.test.ts',
      'test/schedule.test.ts',
      'test/api/errors.test.ts',
      'test/api/server-errors.test.ts',
      'test/api/auth.test.ts',
      'test/api/routes.test.ts',
      'test/api/api-gateway-events.test.ts',
      'test/api/validation.test.ts',
    ],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
