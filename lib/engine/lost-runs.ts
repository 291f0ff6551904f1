import type { Sql } from '../db';
import { metadataAfterRun } from './metadata';

export const LOST_RUN_ERROR = 'run lost: its process stopped before the run finished';

/**
 * Declares lost every `running` run whose lease ran out (its process died or was frozen), counts
 * it as a failure in its job's metadata, and so frees the job: the one-running-run-per-job index
 * no longer blocks it, and it runs again at its next slot. Cost is proportional to running runs.
 */
export async function markLostRuns(
  sql: Sql,
  now: Date,
): Promise<{ job_id: string; run_id: string }[]> {
  return sql<{ job_id: string; run_id: string }[]>`
    with o as (
      update cron_job_run
      set status = 'lost', finished_at = ${now}, error = ${LOST_RUN_ERROR}, deadline = null,
        duration_ms = greatest(0, round(extract(epoch from (${now}::timestamptz - started_at)) * 1000))
      where status = 'running' and deadline < ${now}
      returning id, job_id, status, error, duration_ms
    ), jobs as (
      update cron_job j set metadata = ${metadataAfterRun(sql)}
      from o where j.id = o.job_id
    )
    select job_id, id as run_id from o`;
}
