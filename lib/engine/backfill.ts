import type { Sql } from '../db';
import type { ClaimedRun } from './claim';
import type { RunnableJob } from './execute';
import { insertBackfillRuns } from './run-state';

/**
 * Backfill slots (POST /jobs/{id}/backfill queues them in cron_job_backfill, lib/jobs/backfill.ts)
 * as the sweep runs them, in backfill rounds after its due jobs (engine/sweep.ts): each claim
 * takes, per job, its oldest queued slot, for active jobs with no run in progress, and turns it
 * into a `running` run with trigger `backfill` in the same transaction (insertBackfillRuns); the
 * sweep records the round's outcomes before the next claim. So a job runs its backfill one slot
 * after the other, oldest first, never alongside itself, and never a slot that has run meanwhile
 * (the one-run-per-attempt constraint and the check in insertBackfillRuns). An inactive or paused
 * job keeps its slots queued until it is active again.
 */

/** Whether any backfill slot is queued: one index probe, so a sweep with none pays one round trip. */
export async function hasQueuedBackfill(sql: Sql): Promise<boolean> {
  const [any] = await sql`select from cron_job_backfill limit 1`;
  return any !== undefined;
}

interface BackfillJob extends Omit<RunnableJob, 'attempt'> {
  slot: Date;
}

/**
 * Claims up to `limit` jobs' oldest queued backfill slots. `for update skip locked` on the job
 * rows: concurrent sweeps take other jobs, and a job's slot is taken once (its queue row is
 * deleted by the statement that inserts its run). Inactive and paused jobs and jobs whose timeout
 * exceeds the sweep's budget keep their slots queued.
 */
export async function claimBackfillSlots(
  sql: Sql,
  options: { now: Date; limit: number; maxTimeoutSeconds: number; leaseSeconds: number },
): Promise<ClaimedRun[]> {
  return sql.begin(async (tx) => {
    const jobs = await tx<BackfillJob[]>`
      select j.id, j.name, j.tenant_id, j.function_name, j.metadata, j.timeout_seconds,
        (select min(b.scheduled_for) from cron_job_backfill b where b.job_id = j.id) as slot
      from cron_job j
      where j.id in (select job_id from cron_job_backfill)
        and j.is_active and j.paused_at is null and j.timeout_seconds <= ${options.maxTimeoutSeconds}
        and not exists (select from cron_job_run r where r.job_id = j.id and r.status = 'running')
      order by slot
      limit ${options.limit}
      for update of j skip locked`;
    if (jobs.length === 0) return [];
    const deadline = new Date(options.now.getTime() + options.leaseSeconds * 1000);
    const inserted = await insertBackfillRuns(
      tx,
      jobs.map((job) => ({ job_id: job.id, scheduled_for: job.slot })),
      { now: options.now, deadline },
    );
    const byJob = new Map(jobs.map((job) => [job.id, job]));
    return inserted.map((run) => {
      const job = byJob.get(run.job_id)!;
      return {
        id: job.id,
        name: job.name,
        tenant_id: job.tenant_id,
        function_name: job.function_name,
        metadata: job.metadata,
        timeout_seconds: job.timeout_seconds,
        attempt: run.attempt,
        run_id: run.id,
        scheduled_for: run.scheduled_for,
        due_at: options.now,
        invalid_schedule: null,
        behind: false,
      };
    });
  });
}
