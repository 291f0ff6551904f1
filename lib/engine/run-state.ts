import { jsonb, type Sql, type TransactionSql } from '../db';
import { metadataAfterRun } from './metadata';
import type { FinishedStatus } from './execute';

/**
 * Every statement that moves a run between states, each written once. A run's life:
 *
 *   (claimed) --insertSlotRuns--> running | skipped
 *   (manual)  --insertManualRun-> running
 *   running   --finishRuns------> success | error | timeout   (job: last_run, engine metadata)
 *   running   --markLostRuns----> lost                        (lease ran out; job metadata)
 *   running   --releaseRuns-----> (deleted; the job is due again at that slot)
 *   running   --renewLeases-----> running, lease extended
 *
 * Two rules make concurrent callers safe without locks held across a run:
 * - Every move out of `running` is guarded by `status = 'running'` in its own `where`: whichever
 *   statement commits first wins (PostgreSQL re-checks the row after waiting for a concurrent
 *   writer), so a run is finished, declared lost or released exactly once, never twice.
 * - A run is created only under the unique constraints of `cron_job_run`: one run per job and
 *   slot (`cron_job_run_one_per_slot`) and one `running` run per job (`cron_job_run_one_running`).
 */

/** The error of a run whose process stopped before it finished. */
export const LOST_RUN_ERROR = 'run lost: its process stopped before the run finished';

/** One claimed slot of one job, as the claim decided it. */
export interface SlotClaim {
  job_id: string;
  /** The slot the run is for. */
  scheduled_for: Date;
  /** The job's next slot after this one; null deactivates the job (a one-off that has run). */
  next_run: Date | null;
  /** `skipped` when the job's previous run is still in progress. */
  status: 'running' | 'skipped';
}

export interface InsertedRun {
  id: string;
  job_id: string;
  status: 'running' | 'skipped';
}

/**
 * Moves each claimed job's `next_run` on and inserts its slot's run, `running` (with a lease until
 * `deadline`) or `skipped` (finished at once). Call it in the transaction that locked the job rows
 * (`for update`), so no other claim can advance them in between. A slot that already has a run
 * (the exact-time trigger or another sweep got there first) is left alone: `on conflict do
 * nothing` under `cron_job_run_one_per_slot`, and such a slot is simply absent from the result.
 */
export async function insertSlotRuns(
  tx: TransactionSql,
  claims: SlotClaim[],
  times: { now: Date; deadline: Date },
): Promise<InsertedRun[]> {
  if (claims.length === 0) return [];
  const { now, deadline } = times;
  return tx<InsertedRun[]>`
    with c as (
      select * from jsonb_to_recordset(${jsonb(tx, claims)})
        as c(job_id uuid, scheduled_for timestamptz, next_run timestamptz, status text)
    ), advanced as (
      update cron_job j set next_run = c.next_run, is_active = c.next_run is not null
      from c
      where j.id = c.job_id
    )
    insert into cron_job_run
      (job_id, scheduled_for, trigger, status, started_at, finished_at, deadline, duration_ms)
    select c.job_id, c.scheduled_for, 'schedule', c.status, ${now},
      case when c.status = 'skipped' then ${now}::timestamptz end,
      case when c.status = 'running' then ${deadline}::timestamptz end,
      case when c.status = 'skipped' then 0 end
    from c
    on conflict do nothing
    returning id, job_id, status`;
}

/**
 * Inserts a `manual` run of a job, `running` with a lease until `deadline`, unless one of its
 * runs is in progress: then it returns null. A concurrent insert that slips past the `not exists`
 * fails on `cron_job_run_one_running`; callers map that violation to "busy" too.
 */
export async function insertManualRun(
  tx: TransactionSql,
  jobId: string,
  deadline: Date,
): Promise<{ id: string } | null> {
  const [run] = await tx<{ id: string }[]>`
    insert into cron_job_run (job_id, trigger, status, deadline)
    select ${jobId}, 'manual', 'running', ${deadline}
    where not exists (select from cron_job_run where job_id = ${jobId} and status = 'running')
    returning id`;
  return run ?? null;
}

export interface FinishedRun {
  run_id: string;
  status: FinishedStatus;
  finished_at: Date;
  duration_ms: number;
  result: unknown;
  error: string | null;
}

/**
 * Finishes `running` runs with their outcomes and, in the same statement, sets their jobs'
 * `last_run` and engine metadata. A run no longer `running` (another sweep declared it lost) keeps
 * its verdict and is absent from the result. Idempotent: repeating the call changes nothing, so
 * callers may retry it after a transient failure.
 */
export async function finishRuns(sql: Sql, outcomes: FinishedRun[]): Promise<{ id: string }[]> {
  if (outcomes.length === 0) return [];
  const rows = outcomes.map((outcome) => ({
    run_id: outcome.run_id,
    status: outcome.status,
    finished_at: outcome.finished_at,
    duration_ms: outcome.duration_ms,
    result: outcome.result,
    error: outcome.error,
  }));
  return sql<{ id: string }[]>`
    with o as (
      select * from jsonb_to_recordset(${jsonb(sql, rows)}) as o(
        run_id uuid, status text, finished_at timestamptz, duration_ms integer, result jsonb, error text)
    ), finished as (
      update cron_job_run r
      set status = o.status, finished_at = o.finished_at, duration_ms = o.duration_ms,
        result = o.result, error = o.error, deadline = null
      from o
      where r.id = o.run_id and r.status = 'running'
      returning r.id, r.job_id, r.started_at
    ), jobs as (
      update cron_job j set last_run = f.started_at, metadata = ${metadataAfterRun(sql)}
      from finished f join o on o.run_id = f.id
      where j.id = f.job_id
    )
    select id from finished`;
}

/**
 * Declares lost every `running` run whose lease ran out before `now` (its process died or was
 * frozen), counts it as a failure in its job's metadata, and so frees the job: the
 * one-running-run-per-job index no longer blocks it. Cost is proportional to running runs.
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

/**
 * Gives back claimed runs that were never started (the sweep ran out of time): their run rows go
 * and each job is due again at the slot it was claimed for, so the next sweep runs it. Only
 * `running` rows are released, so a run finished or declared lost meanwhile stays.
 */
export async function releaseRuns(sql: Sql, runIds: string[]): Promise<void> {
  if (runIds.length === 0) return;
  await sql`
    with released as (
      delete from cron_job_run where id in ${sql(runIds)} and status = 'running'
      returning job_id, scheduled_for
    )
    update cron_job j set next_run = r.scheduled_for, is_active = true
    from released r
    where j.id = r.job_id and (j.is_active or j.schedule like 'at:%')`;
}

/** Extends the lease of runs still `running` to `deadline`, so no sweep declares them lost. */
export async function renewLeases(sql: Sql, runIds: string[], deadline: Date): Promise<void> {
  if (runIds.length === 0) return;
  await sql`
    update cron_job_run set deadline = ${deadline}
    where id in ${sql(runIds)} and status = 'running'`;
}
