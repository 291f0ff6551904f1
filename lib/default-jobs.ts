import * as z from 'zod/mini';
import { jsonb, type Sql } from './db';
import { initialEngineMetadata } from './engine/metadata';
import type { ExecutorRegistry } from './executors/registry';
import { missingTables } from './executors/required-tables';

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

/**
 * Inserts the default global jobs that are missing; never touches existing ones. Returns names
 * inserted. A default job that would be active but whose CRM tables do not exist (a new database)
 * is inserted inactive with that reason, so the first deploy does not fail every five minutes.
 */
export async function seedDefaultJobs(
  sql: Sql,
  registry: ExecutorRegistry,
  now = new Date(),
): Promise<string[]> {
  const missing = await missingTables(sql, registry);
  const rows = defaultJobs.map((job) => {
    const executor = registry.get(job.function_name);
    if (!executor) throw new Error(`default job ${job.name} needs executor ${job.function_name}`);
    const absent = missing[job.function_name] ?? [];
    const active = job.is_active && absent.length === 0;
    return {
      name: job.name,
      schedule: job.schedule,
      timezone: 'UTC',
      function_name: job.function_name,
      is_active: active,
      inactive_reason:
        job.is_active && !active
          ? `table(s) ${absent.join(', ')} do not exist: activate the job (PUT {"is_active":true}) once the CRM's tables are there`
          : null,
      metadata: jsonb(sql, {
        ...(z.parse(executor.configSchema, job.metadata) as object),
        ...initialEngineMetadata,
      }),
      // Due at once: a freshly seeded job does its work in the first sweep, as the earlier system did.
      next_run: active ? now : null,
    };
  });
  const inserted = await sql<{ name: string }[]>`
    insert into cron_job ${sql(rows)}
    on conflict on constraint cron_job_name_unique do nothing
    returning name`;
  return inserted.map((row) => row.name);
}
