import { jsonb, type Sql, type TransactionSql } from '../db';
import { AFTER_PREFIX } from '../schedule';
import { nextRunOf } from './catch-up';
import { ENGINE_ACTOR, spreadOffsetSql } from './run-state';

/**
 * A job's pause state, each move written once. A paused job is inactive (`is_active` false,
 * `next_run` null), so neither the sweep nor its exact-time trigger runs it, and carries
 * `paused_reason`, `paused_at`, `paused_by` and optionally `paused_until`. Resuming (by hand, or
 * by the sweep once `paused_until` has passed) makes it active again at its first slot after the
 * resume (after `paused_until` for an automatic one). The engine's own auto-pause happens in the
 * statement that finishes the failing run (run-state.ts). Callers sync exact-time triggers after.
 */

export interface PauseRequest {
  reason: string;
  until: Date | null;
  by: string;
  now: Date;
}

/**
 * Pauses a job (or replaces the reason and end of its pause) and drops its pending retry. A run
 * already in progress finishes; no retry follows it. Runs in the caller's transaction, which has
 * locked the job row.
 */
export async function pauseJob(
  tx: TransactionSql,
  jobId: string,
  pause: PauseRequest,
): Promise<void> {
  await tx`
    update cron_job
    set is_active = false, next_run = null, retry_at = null, retry_for = null, retry_attempt = null,
      paused_reason = ${pause.reason}, paused_at = ${pause.now}, paused_by = ${pause.by},
      paused_until = ${pause.until}, updated_at = ${pause.now}
    where id = ${jobId}`;
}

/**
 * Makes a paused job active again from its first slot strictly after `from` (inside its active
 * window, at its spread offset). A job whose schedule has no slot after `from` (a one-off already
 * past, an active window that has ended) stays inactive, its pause cleared.
 */
export async function resumeJob(
  tx: TransactionSql,
  job: { id: string; schedule: string; timezone: string },
  from: Date,
  now: Date,
): Promise<void> {
  const [timing] = await tx<{ starts_at: Date | null; ends_at: Date | null; offset: number }[]>`
    select starts_at, ends_at, ${spreadOffsetSql(tx, 'cron_job')} as offset
    from cron_job where id = ${job.id}`;
  const next =
    nextRunOf(
      {
        schedule: job.schedule,
        timezone: job.timezone,
        spread_offset_ms: timing?.offset ?? 0,
        starts_at: timing?.starts_at ?? null,
        ends_at: timing?.ends_at ?? null,
      },
      from,
    )?.runAt ?? null;
  // An `after:` job has no slots: it is active again, waiting for its upstream jobs.
  const active = next !== null || job.schedule.startsWith(AFTER_PREFIX);
  await tx`
    update cron_job
    set is_active = ${active}, next_run = ${next}, paused_reason = null, paused_at = null,
      paused_by = null, paused_until = null, updated_at = ${now}
    where id = ${job.id}`;
}

/**
 * Resumes every job whose `paused_until` has passed, each from its first slot after that time
 * (so a sweep that comes late still runs the slot it missed, once). `for update skip locked`:
 * concurrent sweeps resume each job once. Returns the ids resumed, for trigger sync.
 */
export async function resumeDuePauses(sql: Sql, now: Date, limit = 500): Promise<string[]> {
  // One index probe when nothing is due (nearly always), instead of a transaction.
  const [any] = await sql`select from cron_job where paused_until <= ${now} limit 1`;
  if (!any) return [];
  return sql.begin(async (tx) => {
    const due = await tx<
      {
        id: string;
        tenant_id: string | null;
        schedule: string;
        timezone: string;
        paused_until: Date;
        paused_reason: string | null;
      }[]
    >`
      select id, tenant_id, schedule, timezone, paused_until, paused_reason from cron_job
      where paused_until <= ${now}
      order by paused_until
      limit ${limit}
      for update skip locked`;
    for (const job of due) {
      try {
        await resumeJob(tx, job, job.paused_until, now);
        // As a resume by hand is audited (lib/jobs/pause.ts), with the engine as the actor.
        await tx`
          insert into cron_job_audit (job_id, tenant_id, action, actor, changes)
          values (${job.id}, ${job.tenant_id}, 'resume', ${ENGINE_ACTOR}, ${jsonb(tx, {
            paused_reason: { before: job.paused_reason, after: null },
          })})`;
      } catch {
        // A stored schedule that no longer parses: the job stays paused, without an end, so it
        // is not picked up again by every sweep.
        await tx`update cron_job set paused_until = null where id = ${job.id}`;
      }
    }
    return due.map((job) => job.id);
  });
}
