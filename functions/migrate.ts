import { connectToAwsDatabase, parseAwsDatabaseConfig } from '../lib/aws/database';
import { app, appRole, log } from '../lib/lambda/app';
import { migrateWithReport } from '../lib/migrate';
import { seedDefaultJobs } from '../lib/default-jobs';

/**
 * Run at deploy time by a CDK trigger: applies pending migrations (adopting the earlier system's
 * cron_job if the database has one), keeps the app role and its grants exact, and seeds the
 * default jobs. It alone logs in as the owner (DB_USER). Throwing fails the trigger, and with it
 * the deployment. Invoked with `{"dryRun": true}` it changes nothing and returns what a real run
 * would do (the Lambda form of `npm run adopt -- --dry-run`). Without RDS Proxy (lean profile)
 * `migrate-launcher` invokes it with the owner's password (`ownerPassword`), which it uses for
 * this invocation's connection only and never logs.
 */
export const handler = async (event?: { dryRun?: unknown; ownerPassword?: unknown }) => {
  const dryRun = event?.dryRun === true;
  const sql =
    typeof event?.ownerPassword === 'string'
      ? connectToAwsDatabase(parseAwsDatabaseConfig(process.env), {
          max: 1,
          password: event.ownerPassword,
        })
      : app.sql;
  try {
    const report = await migrateWithReport(sql, { registry: app.registry, dryRun, appRole });
    const facts = { applied: report.applied, adoption: report.adoption, app_role: report.app_role };
    if (dryRun) {
      log.info('migration dry run', facts);
      return report;
    }
    const seeded = await seedDefaultJobs(sql, app.registry);
    log.info('migrated', { ...facts, seeded });
    return { ...facts, seeded };
  } finally {
    if (sql !== app.sql) await sql.end({ timeout: 5 });
  }
};
