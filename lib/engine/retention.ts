import type { Sql } from '../db';
import type { Log } from '../logger';
import { pruneAlertDeliveries } from '../alerts/retention';
import { errorMessage } from './execute';

/** `RUN_RETENTION_DAYS` when unset (contract section 2). */
export const DEFAULT_RUN_RETENTION_DAYS = 30;
/** However old, a job's newest runs stay, so every job keeps a visible history. */
export const KEPT_RUNS_PER_JOB = 10;
/**
 * Runs one statement deletes. Each batch is its own short transaction holding row locks on the
 * runs it deletes (and their log lines) only; no sweep ever waits on a run this old.
 */
export const RETENTION_BATCH_SIZE = 500;
/**
 * How long one sweep's retention may run: a backlog (a first deploy over years of history) is
 * worked off over many sweeps instead of keeping one busy for its whole time budget.
 */
export const RETENTION_TIME_PER_SWEEP_MS = 60_000;

export interface RetentionOptions {
  retentionDays: number;
  now?: Date;
  batchSize?: number;
  /** Stop before starting a batch after this moment (a Lambda's remaining time). */
  deadline?: Date;
}

export interface RetentionSummary {
  deleted: number;
  batches: number;
  /** The longest batch as the database timed it (statement start to its last row), ms. */
  max_batch_ms: number;
}

/**
 * Removes run history older than `retentionDays`, except each existing job's newest
 * KEPT_RUNS_PER_JOB runs; runs of a job that no longer exists keep no such exemption. Walks the
 * old runs oldest first along `cron_job_run_age`, in batches of `batchSize` committed one by one,
 * so it never holds a lock for longer than one batch and can stop at any point (the next call
 * continues where the history is oldest). Running runs are never touched. Safe to run in several
 * processes at once: a run deleted by one is simply not found by the other.
 */
export async function pruneRunHistory(
  sql: Sql,
  options: RetentionOptions,
): Promise<RetentionSummary> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000);
  const batchSize = options.batchSize ?? RETENTION_BATCH_SIZE;
  const summary: RetentionSummary = { deleted: 0, batches: 0, max_batch_ms: 0 };
  // Kept runs are passed over, not revisited: the cursor moves past every run a batch looked at.
  let cursor: { started_at: Date; id: string } | undefined;
  for (;;) {
    if (options.deadline && Date.now() >= options.deadline.getTime()) break;
    const after = cursor
      ? sql`and (r.started_at, r.id) > (${cursor.started_at}, ${cursor.id}::uuid)`
      : sql``;
    const [batch] = await sql<
      {
        examined: number;
        deleted: number;
        last_started_at: Date | null;
        last_id: string | null;
        ms: number;
      }[]
    >`
      with examined as (
        select r.id, r.job_id, r.started_at, r.status
        from cron_job_run r
        where r.started_at < ${cutoff} ${after}
        order by r.started_at, r.id
        limit ${batchSize}
      ),
      doomed as (
        select e.id
        from examined e
        where e.status <> 'running'
          and (
            not exists (select 1 from cron_job j where j.id = e.job_id)
            or exists (
              select 1 from cron_job_run newer
              where newer.job_id = e.job_id
                and (newer.started_at, newer.id) > (e.started_at, e.id)
              offset ${KEPT_RUNS_PER_JOB - 1} limit 1
            )
          )
      ),
      deleted as (
        delete from cron_job_run r using doomed d where r.id = d.id returning r.id
      ),
      last as (select started_at, id from examined order by started_at desc, id desc limit 1)
      select
        (select count(*) from examined)::int as examined,
        (select count(*) from deleted)::int as deleted,
        (select started_at from last) as last_started_at,
        (select id from last) as last_id,
        extract(epoch from clock_timestamp() - statement_timestamp()) * 1000 as ms`;
    if (!batch || batch.examined === 0 || !batch.last_started_at || !batch.last_id) break;
    summary.batches += 1;
    summary.deleted += batch.deleted;
    summary.max_batch_ms = Math.max(summary.max_batch_ms, Math.round(Number(batch.ms)));
    if (batch.examined < batchSize) break;
    cursor = { started_at: batch.last_started_at, id: batch.last_id };
  }
  return summary;
}

/**
 * Removes audit entries older than `retentionDays` (of every job, deleted or not), oldest first,
 * `batchSize` per statement, through cron_job_audit_prune: the app role may not delete audit
 * entries itself, and that function never removes one younger than a day. Returns how many went.
 */
export async function pruneAuditTrail(sql: Sql, options: RetentionOptions): Promise<number> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000);
  const batchSize = options.batchSize ?? RETENTION_BATCH_SIZE;
  let deleted = 0;
  for (;;) {
    if (options.deadline && Date.now() >= options.deadline.getTime()) break;
    const [batch] = await sql<{ deleted: number }[]>`
      select cron_job_audit_prune(${cutoff}, ${batchSize}) as deleted`;
    deleted += batch?.deleted ?? 0;
    if ((batch?.deleted ?? 0) < batchSize) break;
  }
  return deleted;
}

/**
 * What the sweep's callers (the `run-due-jobs` function, the local timer) run after each sweep:
 * retention of runs, then of audit entries, then of the alert delivery log (finished deliveries,
 * lib/alerts/retention.ts), all by `retentionDays`, for at most RETENTION_TIME_PER_SWEEP_MS, logged
 * as one line when it removed anything. A failure is logged, not thrown: the sweep itself succeeded, and
 * the next one tries again (the FreeStorageSpace alarm watches the outcome).
 */
export async function pruneAfterSweep(
  deps: { sql: Sql; log: Log },
  options: RetentionOptions,
): Promise<RetentionSummary | undefined> {
  const budget = Date.now() + RETENTION_TIME_PER_SWEEP_MS;
  const deadline = new Date(Math.min(budget, options.deadline?.getTime() ?? budget));
  try {
    const summary = await pruneRunHistory(deps.sql, { ...options, deadline });
    const auditDeleted = await pruneAuditTrail(deps.sql, { ...options, deadline });
    const deliveriesDeleted = await pruneAlertDeliveries(deps.sql, {
      ...options,
      batchSize: options.batchSize ?? RETENTION_BATCH_SIZE,
      deadline,
    });
    if (summary.deleted > 0 || auditDeleted > 0 || deliveriesDeleted > 0) {
      deps.log.info('run history pruned', {
        ...summary,
        audit_deleted: auditDeleted,
        alert_deliveries_deleted: deliveriesDeleted,
        retention_days: options.retentionDays,
      });
    }
    return summary;
  } catch (error) {
    deps.log.error('run retention failed', { error: errorMessage(error) });
    return undefined;
  }
}
