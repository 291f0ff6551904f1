import { defineConfig } from 'vitest/config';

const everyTest = ['test/**/*.test.ts'];

/**
 * Files that never reach PostgreSQL, or reach it only through code every major runs alike (HTTP
 * parsing, OpenAPI, the CDK template, documentation prose): they run on PostgreSQL 17 only. Every
 * other file (engine, executors, migrations, reliability, job service and its SQL, the docs' SQL)
 * runs on 15 and 17, so a new database test is on both majors unless listed here.
 */
const notDatabaseFacing = [
  'test/browser/**',
  'test/local-console.test.ts',
  'test/infra/**',
  'test/aws/sqs-run-queue.test.ts',
  'test/schedule.test.ts',
  'test/cron-fields.test.ts',
  'test/api/fuzz.test.ts',
  'test/api/robustness.test.ts',
  'test/reliability/hostile-input.test.ts',
  // 200,000 runs pruned under concurrent sweeps (~45 s); lock behaviour is the same on 15, and
  // test/engine/retention.test.ts checks what retention keeps on both.
  'test/reliability/retention.test.ts',
  'test/docs/api-reference.test.ts',
  'test/docs/curl.test.ts',
  'test/docs/docs-consistency.test.ts',
  'test/docs/schedules.test.ts',
];

/**
 * The PostgreSQL matrix: one embedded server per project (test/helpers/global-setup.ts), 17 (what
 * the stack deploys) running everything, 15 (the oldest the contract supports) running the
 * database-facing files. With TEST_DATABASE_URL there is one server, so one project runs all.
 */
export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: process.env.TEST_DATABASE_URL
      ? [{ extends: true, test: { name: 'external', include: everyTest } }]
      : [
          {
            extends: true,
            test: { name: 'pg17', include: everyTest, provide: { postgresMajor: 17 } },
          },
          {
            extends: true,
            test: {
              name: 'pg15',
              include: everyTest,
              exclude: notDatabaseFacing,
              provide: { postgresMajor: 15 },
            },
          },
        ],
  },
});
