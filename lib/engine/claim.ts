import type { Sql } from '../db';
import type { RunnableJob } from './execute';
import { nextSlot } from '../schedule';
import { insertSlotRuns, type SlotClaim } from './run-state';

export interface ClaimedRun extends RunnableJob {
  run_id: string;
  scheduled_for: Date;
  /** Set when the job cannot be run at all (its stored schedule no longer parses). */
  invalid_schedule: string | null;
}

export interface SkippedSlot {
  job_id: string;
  name: string;
  scheduled_for: Date;
}

export interface ClaimResult {
  /** Job rows claimed; zero means nothing (else) is due. */
  claimed: number;
  runnable: ClaimedRun[];
  skipped: SkippedSlot[];
}

interface DueRow extends RunnableJob {
  schedule: string;
  timezone: string;
  next_run: Date;
  busy: boolean;
}

/**
 * Claims up to `limit` due jobs in one short transaction. Guarantees, whatever the timing:
 * - `for update skip locked`: two sweeps never claim the same job row; each takes other rows.
 * - In the same transaction each claimed job's `next_run` moves to its first slot strictly after
 *   `now`, so a job is due again only for a later slot.
 * - The slot's run row is inserted by insertSlotRuns (run-state.ts) under the one-run-per-slot
 *   constraint: a slot that already has a run (e.g. started by the precise trigger) is not claimed.
 * - A job whose previous run is still `running` gets a `skipped` run for this slot instead.
 * Jobs whose timeout exceeds `maxTimeoutSeconds` (the sweep's time budget) stay due.
 * Next slots are computed once per distinct (schedule, time zone) in the batch.
 */
export async function claimDueJobs(
  sql: Sql,
  options: {
    now: Date;
    limit: number;
    maxTimeoutSeconds: number;
    leaseSeconds: number;
    /** Claim just this job's slot (an exact-time trigger firing), whether or not it is due yet. */
    only?: { jobId: string; slot: Date } | undefined;
    /** Claim among these jobs only (still due ones), in this order: a slice of fairDueOrder(). */
    ids?: string[] | undefined;
  },
): Promise<ClaimResult> {
  const { only } = options;
  // A trigger may fire a moment before its slot: the next slot is then the one after that slot.
  const now = only && only.slot > options.now ? only.slot : options.now;
  return sql.begin(async (tx) => {
    const due = await tx<DueRow[]>`
      select j.id, j.name, j.tenant_id, j.function_name, j.metadata, j.timeout_seconds,
        j.schedule, j.timezone, j.next_run,
        exists (select from cron_job_run r where r.job_id = j.id and r.status = 'running') as busy
      from cron_job j
      where j.is_active and ${
        only
          ? tx`j.id = ${only.jobId} and j.next_run = ${only.slot}`
          : options.ids
            ? tx`j.id = any(${options.ids}::uuid[]) and j.next_run <= ${now}`
            : tx`j.next_run <= ${now}`
      } and j.timeout_seconds <= ${options.maxTimeoutSeconds}
      ${options.ids ? tx`` : tx`order by j.next_run`}
      limit ${options.limit}
      for update of j skip locked`;
    if (due.length === 0) return { claimed: 0, runnable: [], skipped: [] };
    if (options.ids) {
      // Start the batch in the order asked for (the fair order), not in the order of the scan.
      const position = new Map(options.ids.map((id, index) => [id, index]));
      due.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
    }

    const slots = new Map<string, { next: Date | null; problem: string | null }>();
    const claims = due.map((job) => {
      const key = `${job.schedule}\u0000${job.timezone}`;
      let slot = slots.get(key);
      if (!slot) {
        try {
          slot = { next: nextSlot(job.schedule, job.timezone, now), problem: null };
        } catch (error) {
          slot = { next: null, problem: (error as Error).message };
        }
        slots.set(key, slot);
      }
      const claim: SlotClaim = {
        job_id: job.id,
        scheduled_for: job.next_run,
        next_run: slot.next,
        status: job.busy ? 'skipped' : 'running',
      };
      return claim;
    });

    const deadline = new Date(now.getTime() + options.leaseSeconds * 1000);
    const inserted = await insertSlotRuns(tx, claims, { now, deadline });

    // The insert returns its rows in an unspecified order: keep the order of `due`.
    const byJob = new Map(inserted.map((row) => [row.job_id, row]));
    const result: ClaimResult = { claimed: due.length, runnable: [], skipped: [] };
    for (const job of due) {
      const row = byJob.get(job.id);
      if (!row) continue;
      if (row.status === 'skipped') {
        result.skipped.push({ job_id: job.id, name: job.name, scheduled_for: job.next_run });
        continue;
      }
      const slot = slots.get(`${job.schedule}\u0000${job.timezone}`)!;
      result.runnable.push({
        id: job.id,
        name: job.name,
        tenant_id: job.tenant_id,
        function_name: job.function_name,
        metadata: job.metadata,
        timeout_seconds: job.timeout_seconds,
        run_id: row.id,
        scheduled_for: job.next_run,
        invalid_schedule: slot.problem,
      });
    }
    return result;
  });
}

/**
 * The due jobs in fair order, for the sweep to claim slice by slice: round-robin across tenants
 * (global jobs count as one tenant). Each tenant's jobs keep their slot order; every tenant's
 * oldest slot comes before any tenant's second, and within a turn jobs go by slot. So a tenant with 90,000 due jobs delays another tenant's 10 by at most 10 turns
 * of each due tenant, never by its own backlog. Reads every due row once (no locks); at most
 * `limit` ids are returned, and the sweep asks again when it has claimed them.
 */
export async function fairDueOrder(
  sql: Sql,
  options: { now: Date; maxTimeoutSeconds: number; limit: number },
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from (
      select id, next_run,
        row_number() over (partition by tenant_id order by next_run, id) as turn
      from cron_job
      where is_active and next_run <= ${options.now}
        and timeout_seconds <= ${options.maxTimeoutSeconds}
    ) due
    order by turn, next_run, id
    limit ${options.limit}`;
  return rows.map((row) => row.id);
}
