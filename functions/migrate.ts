import { app, log } from '../lib/lambda/app';
import { migrateWithReport } from '../lib/migrate';
import { seedDefaultJobs } from '../lib/default-jobs';

/**
 * Run at deploy time by a CDK trigger: applies pending migrations (adopting the earlier system's
 * cron_job if the database has one) and seeds the default jobs. Throwing fails the trigger, and
 * with it the deployment. Invoked with `{"dryRun": true}` it changes nothing and returns what a
 * real run would do (the Lambda form of `npm run adopt -- --dry-run`).
 */
export const handler = async (event?: { dryRun?: unknown }) => {
  const dryRun = event?.dryRun === true;
  const report = await migrateWithReport(app.sql, { registry: app.registry, dryRun });
  if (dryRun) {
    log.info('migration dry run', { applied: report.applied, adoption: report.adoption });
    return report;
  }
  const seeded = await seedDefaultJobs(app.sql, app.registry);
  log.info('migrated', { applied: report.applied, adoption: report.adoption, seeded });
  return { applied: report.applied, adoption: report.adoption, seeded };
};
