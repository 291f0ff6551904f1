import type { Sql } from '../db';
import { errorMessage } from './execute';
import type { Log } from '../logger';

/** A job's exact-time trigger: fire `run-job` with this job and slot at `next_run`. */
export interface TriggerRequest {
  job_id: string;
  next_run: Date;
  timezone: string;
}

/**
 * Where exact-time triggers live: EventBridge Scheduler in AWS, in-process timers locally.
 * PostgreSQL stays the source of truth; a trigger only ever asks the engine to run a slot.
 */
export interface TriggerPort {
  /** Creates or replaces the job's one-time trigger for `next_run`. */
  arm(request: TriggerRequest): Promise<void>;
  /** Removes the job's trigger; succeeds when there is none. */
  disarm(jobId: string): Promise<void>;
}

export interface TriggerSyncResult {
  armed: number;
  disarmed: number;
  failed: number;
}

const SYNC_BATCH = 500;

/**
 * When a job's exact-time trigger should fire: precise and one-off jobs at their next slot or
 * their pending retry, whichever is first; other jobs never. Inactive and paused jobs have neither
 * (next_run is null and pausing clears the retry). The expression of the partial index
 * `cron_job_trigger_stale` (migration 15): keep the two the same.
 */
function wantedTrigger(sql: Sql) {
  return sql`case when precise or schedule like 'at:%' then least(next_run, retry_at) end`;
}

/**
 * Brings triggers in step with the table: every active precise or one-off (`at:`) job gets a
 * trigger for its `next_run` (or its pending retry, when sooner), every other job none. `trigger_armed_for` records what was armed,
 * so a failed call leaves the job out of step and the next pass (every sweep) retries it. Calls
 * never fail the caller: failures are logged and counted. `jobIds` limits the pass to those jobs.
 */
export async function syncTriggers(
  deps: { sql: Sql; log: Log; triggers?: TriggerPort | undefined },
  jobIds?: string[],
): Promise<TriggerSyncResult> {
  const result: TriggerSyncResult = { armed: 0, disarmed: 0, failed: 0 };
  const { sql, triggers } = deps;
  if (!triggers || jobIds?.length === 0) return result;
  const stale = await sql<{ id: string; wanted: Date | null; timezone: string }[]>`
    select id, timezone, ${wantedTrigger(sql)} as wanted
    from cron_job
    where trigger_armed_for is distinct from (${wantedTrigger(sql)})
      ${jobIds ? sql`and id in ${sql(jobIds)}` : sql``}
    limit ${SYNC_BATCH}`;
  await Promise.all(
    stale.map(async (job) => {
      try {
        if (job.wanted) {
          await triggers.arm({ job_id: job.id, next_run: job.wanted, timezone: job.timezone });
          result.armed += 1;
        } else {
          await triggers.disarm(job.id);
          result.disarmed += 1;
        }
        // Guarded: if the job changed meanwhile, it stays out of step and is synced again.
        await sql`
          update cron_job set trigger_armed_for = ${job.wanted}
          where id = ${job.id} and (${wantedTrigger(sql)}) is not distinct from ${job.wanted}`;
      } catch (error) {
        result.failed += 1;
        deps.log.warn('could not sync the exact-time trigger; the next sweep retries', {
          job_id: job.id,
          error: errorMessage(error),
        });
      }
    }),
  );
  return result;
}
