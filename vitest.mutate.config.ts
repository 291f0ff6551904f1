import { defineConfig } from 'vitest/config';

/**
 * For each file `npm run mutate` mutates, the test files that exercise it: a mutant of that file
 * runs only these (and, with per-test coverage, only the tests among them that reach it), so a
 * file's run costs minutes instead of the whole engine suite per mutant. A test written to kill a
 * mutant goes in one of these files, or its file is added here.
 */
export const mutationTests: Record<string, string[]> = {
  'lib/schedule.ts': [
    'test/schedule.test.ts',
    'test/cron-fields.test.ts',
    'test/docs/schedules.test.ts',
  ],
  'lib/engine/execute.ts': [
    'test/engine/outcomes.test.ts',
    'test/engine/sweep-promises.test.ts',
    'test/api/run-log.test.ts',
    'test/api/run-errors.test.ts',
    'test/engine/failure-log.test.ts',
  ],
  'lib/engine/metadata.ts': [
    'test/engine/batch-columns.test.ts',
    'test/engine/sweep-promises.test.ts',
    'test/retries.test.ts',
    'test/api/routes.test.ts',
  ],
  'lib/engine/run-recorder.ts': [
    'test/engine/recording.test.ts',
    'test/engine/sweep-promises.test.ts',
  ],
  'lib/engine/run-state.ts': [
    'test/run-state.test.ts',
    'test/retries.test.ts',
    'test/pause.test.ts',
    'test/engine/sweep-promises.test.ts',
    'test/engine/spread.test.ts',
    'test/engine/dispatch.test.ts',
    'test/lambda/handlers.test.ts',
    'test/engine/dependencies.test.ts',
    'test/engine/overlap.test.ts',
    'test/catch-up.test.ts',
    'test/api/backfill.test.ts',
    'test/alerts/missed.test.ts',
    'test/alerts/auto-paused-race.test.ts',
  ],
  'lib/http/middleware.ts': [
    'test/api/errors.test.ts',
    'test/api/server-errors.test.ts',
    'test/api/auth.test.ts',
    'test/api/api-gateway-events.test.ts',
    'test/api/validation.test.ts',
    'test/api/body-limit.test.ts',
    'test/api/tenancy.test.ts',
  ],
  'lib/engine/claim.ts': [
    'test/engine/claims.test.ts',
    'test/sweep.test.ts',
    'test/fair-claiming.test.ts',
    'test/precise.test.ts',
    'test/retries.test.ts',
    'test/engine/overlap.test.ts',
    'test/engine/dependencies.test.ts',
    'test/catch-up.test.ts',
    'test/engine/priority.test.ts',
    'test/engine/dispatch.test.ts',
    'test/reliability/time-budget.test.ts',
    'test/engine/spread.test.ts',
    'test/engine/claim-decisions.test.ts',
  ],
  // Every test of these reaches nearly every line of sweep.ts, so each surviving mutant runs them
  // all: the list is kept to the files that kill something the others do not.
  'lib/engine/sweep.ts': [
    'test/sweep.test.ts',
    'test/engine/sweep-promises.test.ts',
    'test/engine/recording.test.ts',
    'test/engine/claims.test.ts',
    'test/catch-up.test.ts',
    'test/engine/dispatch.test.ts',
    'test/engine/sweep-steps.test.ts',
  ],
  'lib/engine/catch-up.ts': [
    'test/engine/catch-up-plan.test.ts',
    'test/engine/catch-up-edges.test.ts',
    'test/catch-up.test.ts',
    'test/engine/spread.test.ts',
  ],
  'lib/engine/dispatch-policy.ts': [
    'test/engine/dispatch.test.ts',
    'test/engine/dispatch-policy.test.ts',
  ],
  'lib/engine/dependencies.ts': [
    'test/engine/dependencies.test.ts',
    'test/api/dependencies.test.ts',
  ],
};

/**
 * Files whose tests never reach PostgreSQL: their runs skip starting it, which matters because
 * Stryker restarts the test runner (global setup included) after every mutant that times out.
 */
const withoutDatabase = new Set(['lib/schedule.ts']);

/** `MUTATE_FILE` (set by scripts/mutate.ts) narrows the run to one file's tests. */
const target = process.env.MUTATE_FILE;
if (target !== undefined && !Object.hasOwn(mutationTests, target)) {
  throw new Error(`no mutation tests listed for ${target} in vitest.mutate.config.ts`);
}

export default defineConfig({
  test: {
    include: target ? mutationTests[target] : [...new Set(Object.values(mutationTests).flat())],
    globalSetup: target && withoutDatabase.has(target) ? [] : ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/fixed-seed.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
