import { app, log } from '../lib/lambda/app';
import { migrate } from '../lib/migrate';
import { seedDefaultJobs } from '../lib/default-jobs';

/**
 * Run at deploy time by a CDK trigger: applies pending migrations and seeds the default jobs.
 * Throwing fails the trigger, and with it the deployment.
 */
export const handler = async () => {
  const applied = await migrate(app.sql);
  const seeded = await seedDefaultJobs(app.sql, app.registry);
  log.info('migrated', { applied, seeded });
  return { applied, seeded };
};
