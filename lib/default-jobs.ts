import { jsonb, type Sql } from './db';
import { initialEngineMetadata } from './engine/metadata';
import type { ExecutorRegistry } from './executors/registry';

/** The three jobs of the earlier Express system, as it seeded them. */
export const defaultJobs = [
  {
    name: 'Mark Users Offline',
    schedule: 'every_5_minutes',
    function_name: 'markUsersOffline',
    is_active: true,
    metadata: { timeout_minutes: 5 },
  },
  {
    name: 'Clean Old Activities',
    schedule: 'daily',
    function_name: 'cleanOldActivities',
    is_active: false,
    metadata: { retention_days: 365 },
  },
  {
    name: 'Sync Denormalized Fields',
    schedule: 'hourly',
    function_name: 'syncDenormalizedFields',
    is_active: false,
    metadata: {},
  },
] as const;

/** Inserts the default global jobs that are missing; never touches existing ones. Returns names inserted. */
export async function seedDefaultJobs(
  sql: Sql,
  registry: ExecutorRegistry,
  now = new Date(),
): Promise<string[]> {
  const rows = defaultJobs.map((job) => {
    const executor = registry.get(job.function_name);
    if (!executor) throw new Error(`default job ${job.name} needs executor ${job.function_name}`);
    return {
      name: job.name,
      schedule: job.schedule,
      timezone: 'UTC',
      function_name: job.function_name,
      is_active: job.is_active,
      metadata: jsonb(sql, {
        ...(executor.configSchema.parse(job.metadata) as object),
        ...initialEngineMetadata,
      }),
      // Due at once: a freshly seeded job does its work in the first sweep, as the earlier system did.
      next_run: job.is_active ? now : null,
    };
  });
  const inserted = await sql<{ name: string }[]>`
    insert into cron_job ${sql(rows)}
    on conflict on constraint cron_job_name_unique do nothing
    returning name`;
  return inserted.map((row) => row.name);
}
