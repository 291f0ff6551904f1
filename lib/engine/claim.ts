import type { Sql } from '../db';
import type { RunnableJob } from './execute';
import { AFTER_PREFIX, nextSlot } from '../schedule';
import { planClaim, type CatchUpPolicy, type ClaimPlan } from './catch-up';
import { insertClaimedRuns, spreadOffsetSql, type RunClaim } from './run-state';
import { tenantCappedSql, tenantRoomSql, withinTenantCaps } from './tenant-cap';

export interface ClaimedRun extends RunnableJob {
  run_id: string;
  scheduled_for: Date;
  /** When the run became due: its slot, or for a retry the time its backoff ended. */
  due_at: Date;
  /** Set when the job cannot be run at all (its stored schedule no longer parses). */
  invalid_schedule: string | null;
  /** Catch-up `all`: the job's next slot is due already; claim it again once this run is done. */
  behind: boolean;
}

export interface SkippedSlot {
  job_id: string;
  name: string;
  scheduled_for: Date;
}

export interface ClaimResult {
  /**
   * Job rows claimed; zero means nothing (else) is due, or all of it belongs to tenants at their
   * cap (tenant-cap.ts).
   */
  claimed: number;
  runnable: ClaimedRun[];
  skipped: SkippedSlot[];
}

interface DueRow extends Omit<RunnableJob, 'attempt'> {
  /** Due for its slot, for a pending retry, or for its queued slot (overlap `queue_one`). */
  kind: 'slot' | 'retry' | 'queued';
  schedule: string;
  timezone: string;
  next_run: Date | null;
  retry_at: Date | null;
  retry_for: Date | null;
  retry_attempt: number | null;
  pause_after_failures: number | null;
  overlap: 'skip' | 'queue_one' | 'allow';
  queued_for: Date | null;
  triggered_by: string | null;
  catch_up: CatchUpPolicy;
  catch_up_window_seconds: number;
  spread_offset_ms: number;
  starts_at: Date | null;
  ends_at: Date | null;
  /** Its running runs leave no room for another (overlap `allow`: `max_concurrent_runs` of them). */
  busy: boolean;
  /** The lane a new run takes: 0, or the lowest free one below `max_concurrent_runs` (`allow`). */
  lane: number;
  /** Its tenant has a cap on runs in progress (tenant-cap.ts). */
  capped: boolean;
}

/**
 * Claims up to `limit` due slots and up to `limit` due retries in one short transaction.
 * Guarantees, whatever the timing:
 * - `for update skip locked`: two sweeps never claim the same job row; each takes other rows.
 * - In the same transaction each claimed slot's job has its `next_run` moved to its first slot
 *   strictly after `now`, so a job is due again only for a later slot; a claimed retry's job has
 *   its pending retry cleared.
 * - The run row is inserted by insertClaimedRuns (run-state.ts) under the one-run-per-attempt
 *   constraint: a (slot, attempt) that already has a run (e.g. started by the exact-time trigger)
 *   is not claimed again.
 * - A job that is busy (its previous run still `running`; overlap `allow`: `max_concurrent_runs`
 *   runs) gets a `skipped` run for the slot instead, or with overlap `queue_one` and nothing
 *   queued yet, the slot waits in `queued_for`. A queued slot runs, oldest first, once the job is
 *   free: claimed here as soon as no run holds the job. A due retry of a busy job waits.
 * - Each run takes a lane (run-state.ts): the unique index on running (job, lane) bounds a job's
 *   concurrent runs in the database, whatever races the check above.
 * - `after:` jobs have no slots: their `next_run` is set when their upstream jobs succeeded
 *   (dependencies.ts), and claiming it runs them with trigger `dependency` and no next slot.
 * - Of several due slots of a schedule at most one runs; the others are recorded as one `missed`
 *   run, by the job's catch-up policy (catch-up.ts), and `next_run` moves to the first slot whose
 *   run time (slot + spread offset) is after `now` (catch-up `all`: the slot after the one it
 *   runs). A busy catch-up `all` job is not claimed: its backlog waits for the run in progress.
 * - A retry still pending when its job's next slot is due is superseded by that slot (recorded as
 *   a `skipped` retry run); the superseded slot counts as failed towards `pause_after_failures`.
 * - A tenant with a cap on runs in progress (tenant-cap.ts) gets no run beyond it: its other jobs
 *   are left out of the claim, untouched and still due, whatever claims race (they take turns on
 *   the tenant's cap row).
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
    /**
     * Claim just this job's slot or retry due at `slot` (an exact-time trigger firing), whether
     * or not it is due yet.
     */
    only?: { jobId: string; slot: Date } | undefined;
    /** Claim among these jobs only (still due ones), in this order: a slice of fairDueOrder(). */
    ids?: string[] | undefined;
    /** The runs go to the run queue: inserted as dispatched, not yet picked up. */
    dispatched?: boolean | undefined;
  },
): Promise<ClaimResult> {
  const { only } = options;
  // A trigger may fire a moment before its slot: the next slot is then the one after that slot.
  const now = only && only.slot > options.now ? only.slot : options.now;
  return sql.begin(async (tx) => {
    const columns = tx`j.id, j.name, j.tenant_id, j.function_name, j.metadata, j.timeout_seconds,
      j.schedule, j.timezone, j.next_run, j.retry_at, j.retry_for, j.retry_attempt,
      j.pause_after_failures, j.overlap, j.queued_for, j.triggered_by, j.catch_up,
      j.catch_up_window_seconds, j.starts_at, j.ends_at, ${spreadOffsetSql(tx, 'j')} as spread_offset_ms`;
    const running = tx`exists (select from cron_job_run r where r.job_id = j.id and r.status = 'running')`;
    // Only `allow` jobs count their runs and look for a free lane; the rest keep the one probe.
    const busy = tx`case when j.overlap = 'allow' then (select count(*) from cron_job_run r
        where r.job_id = j.id and r.status = 'running') >= j.max_concurrent_runs
      else ${running} end`;
    const lane = tx`case when j.overlap = 'allow' then coalesce((select min(l)
        from generate_series(0, j.max_concurrent_runs - 1) l
        where not exists (select from cron_job_run r
          where r.job_id = j.id and r.status = 'running' and r.lane = l)), 0)
      else 0 end`;
    const due = await tx<DueRow[]>`
      with slots as (
        select ${columns}, 'slot' as kind, ${busy} as busy, ${lane} as lane
        from cron_job j
        where j.is_active and ${
          only
            ? tx`j.id = ${only.jobId} and j.next_run = ${only.slot}`
            : options.ids
              ? tx`j.id = any(${options.ids}::uuid[]) and j.next_run <= ${now}`
              : tx`j.next_run <= ${now}`
        } and j.timeout_seconds <= ${options.maxTimeoutSeconds}
          and (j.catch_up <> 'all' or not ${busy})
        ${options.ids ? tx`` : tx`order by j.next_run`}
        limit ${options.limit}
        for update of j skip locked
      ), retries as (
        select ${columns}, 'retry' as kind, false as busy, ${lane} as lane
        from cron_job j
        where ${
          only
            ? tx`j.id = ${only.jobId} and j.retry_at = ${only.slot}`
            : options.ids
              ? tx`j.id = any(${options.ids}::uuid[]) and j.retry_at <= ${now}`
              : tx`j.retry_at <= ${now}`
        } and (j.next_run is null or j.next_run > ${now}) and j.queued_for is null
          and j.paused_at is null and (j.is_active or j.schedule like 'at:%')
          and j.timeout_seconds <= ${options.maxTimeoutSeconds} and not ${busy}
        order by j.retry_at
        limit ${options.limit}
        for update of j skip locked
      ), queued as (
        select ${columns}, 'queued' as kind, false as busy, ${lane} as lane
        from cron_job j
        where ${
          only
            ? tx`false`
            : options.ids
              ? tx`j.id = any(${options.ids}::uuid[]) and j.queued_for is not null`
              : tx`j.queued_for is not null`
        } and (j.next_run is null or j.next_run > ${now})
          and j.is_active and j.timeout_seconds <= ${options.maxTimeoutSeconds} and not ${busy}
        order by j.queued_for
        limit ${options.limit}
        for update of j skip locked
      )
      select due.*, ${tenantCappedSql(tx, 'due')} as capped
      from (select * from slots union all select * from retries union all select * from queued) due`;
    if (due.length === 0) return { claimed: 0, runnable: [], skipped: [] };
    if (options.ids) {
      // Start the batch in the order asked for (the fair order), not in the order of the scan.
      const position = new Map(options.ids.map((id, index) => [id, index]));
      due.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
    }

    const slots = new Map<string, { next: Date | null; problem: string | null }>();
    const slotAfterNow = (job: DueRow) => {
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
      return slot;
    };
    // A schedule's due slots: which runs, which are missed (catch-up.ts). Slots are computed once
    // per distinct (schedule, time zone, instant) in the batch: a herd of jobs due at the same
    // slot costs one computation, whatever their spread offsets.
    const known = new Map<string, Date | null>();
    const planFor = (job: DueRow): { plan: ClaimPlan; problem: string | null } => {
      const first = new Date(job.next_run!.getTime() - job.spread_offset_ms);
      const next = (after: Date) => {
        const key = `${job.schedule}\u0000${job.timezone}\u0000${after.getTime()}`;
        let slot = known.get(key);
        if (slot === undefined) {
          slot = nextSlot(job.schedule, job.timezone, after);
          known.set(key, slot);
        }
        return slot;
      };
      try {
        return { plan: planClaim(job, first, now, next), problem: null };
      } catch (error) {
        // The stored schedule no longer parses: the run records why and the job stops.
        return {
          plan: { run: first, missed: null, next: null, behind: false },
          problem: (error as Error).message,
        };
      }
    };
    type Claim = RunClaim & { job: DueRow; problem: string | null; behind: boolean };
    const wanted = due.map((job): Claim => {
      const trigger = job.schedule.startsWith(AFTER_PREFIX) ? 'dependency' : 'schedule';
      if (job.kind === 'retry') {
        return {
          job,
          problem: null,
          behind: false,
          job_id: job.id,
          scheduled_for: job.retry_for!,
          attempt: job.retry_attempt!,
          trigger: 'retry',
          next_run: job.next_run,
          queued_for: null,
          lane: job.lane,
          triggered_by: null,
          status: 'running',
          superseded: null,
          consecutive_failures: null,
          pause_reason: null,
          missed: null,
        };
      }
      // A slot of a schedule: of its due slots, the catch-up policy picks the one that runs.
      const planned =
        job.kind === 'slot' && trigger === 'schedule'
          ? planFor(job)
          : { plan: null, problem: null };
      const plan = planned.plan;
      // A queued slot runs once the job is free, before a slot due at the same time (which then
      // waits in its place): the waiting slot is the older one.
      const slot: { next: Date | null; problem: string | null } =
        job.kind === 'queued'
          ? { next: job.next_run, problem: null }
          : plan
            ? { next: plan.next?.runAt ?? null, problem: planned.problem }
            : slotAfterNow(job);
      // The slot that comes up now (for a schedule: the one its catch-up policy runs).
      const dueSlot = plan ? (plan.run ?? plan.missed?.last ?? job.next_run!) : job.next_run!;
      let scheduledFor = job.kind === 'queued' ? job.queued_for! : dueSlot;
      let queuedFor: Date | null = null;
      let status: RunClaim['status'] = plan && plan.run === null ? null : 'running';
      if (status === null) {
        // Every due slot was missed: nothing runs, a waiting slot keeps waiting.
        queuedFor = job.queued_for;
      } else if (job.kind === 'slot' && job.busy) {
        queuedFor = job.queued_for;
        if (job.overlap === 'queue_one' && job.queued_for === null) {
          queuedFor = dueSlot;
          status = 'queued';
        } else status = 'skipped';
      } else if (job.kind === 'slot' && job.queued_for !== null) {
        scheduledFor = job.queued_for;
        queuedFor = dueSlot;
      }
      const supersedes =
        status !== 'queued' && job.retry_for !== null && job.retry_attempt !== null;
      const failures = supersedes ? consecutiveFailures(job.metadata) + 1 : null;
      const pauses =
        failures !== null &&
        job.pause_after_failures !== null &&
        failures >= job.pause_after_failures;
      return {
        job,
        problem: slot.problem,
        behind: plan?.behind ?? false,
        job_id: job.id,
        scheduled_for: scheduledFor,
        attempt: 1,
        trigger,
        next_run: slot.next,
        queued_for: queuedFor,
        lane: job.lane,
        triggered_by: trigger === 'dependency' ? job.triggered_by : null,
        status,
        missed: plan?.missed ?? null,
        superseded: supersedes
          ? { scheduled_for: job.retry_for!, attempt: job.retry_attempt! }
          : null,
        consecutive_failures: failures,
        pause_reason: pauses
          ? `${failures} consecutive failed slots; last error: ${String(job.metadata.last_error ?? 'unknown')}`
          : null,
      };
    });

    // Runs beyond a tenant's cap are not started: their jobs are left as they are, still due.
    const claims = await withinTenantCaps(tx, wanted);
    const deadline = new Date(now.getTime() + options.leaseSeconds * 1000);
    // insertClaimedRuns reads only the RunClaim fields, so the claims go as they are.
    const inserted = await insertClaimedRuns(
      tx,
      claims,
      { now, deadline },
      { dispatched: options.dispatched ?? false },
    );

    // The insert returns its rows in an unspecified order: keep the order of `due`.
    const insertedByJob = new Map(inserted.map((row) => [row.job_id, row]));
    const result: ClaimResult = { claimed: claims.length, runnable: [], skipped: [] };
    for (const { job, problem, behind, scheduled_for, attempt } of claims) {
      const row = insertedByJob.get(job.id);
      if (!row) continue;
      if (row.status === 'skipped') {
        result.skipped.push({ job_id: job.id, name: job.name, scheduled_for });
        continue;
      }
      result.runnable.push({
        id: job.id,
        name: job.name,
        tenant_id: job.tenant_id,
        function_name: job.function_name,
        metadata: job.metadata,
        timeout_seconds: job.timeout_seconds,
        attempt,
        run_id: row.id,
        scheduled_for,
        due_at:
          job.kind === 'retry'
            ? job.retry_at!
            : new Date(scheduled_for.getTime() + job.spread_offset_ms),
        invalid_schedule: problem,
        behind,
      });
    }
    return result;
  });
}

function consecutiveFailures(metadata: Record<string, unknown>): number {
  const value = metadata.consecutive_failures;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * The due jobs (slots, retries and queued slots) in fair order, for the sweep to claim slice by
 * slice: round-robin across tenants (global jobs count as one tenant). Every tenant's first job
 * comes before any tenant's second. Within a tenant jobs go by `priority` (highest first), then
 * by slot; within a turn, likewise by priority, then by slot. So priority decides which of a
 * tenant's jobs goes first and which tenant's job goes first within a turn, but no priority lets
 * one tenant's backlog delay another tenant's jobs: a tenant with 90,000 due jobs delays another
 * tenant's 10 by at most 10 turns of each due tenant. Reads every due row once (no locks); at most
 * `limit` ids are returned, and the sweep asks again when it has claimed them. A tenant with a cap
 * on runs in progress gets no more turns than the room left under it (tenant-cap.ts), so a capped
 * backlog does not fill the order with jobs the claim would leave out.
 */
export async function fairDueOrder(
  sql: Sql,
  options: { now: Date; maxTimeoutSeconds: number; limit: number },
): Promise<string[]> {
  // A job is due for its slot, a pending retry or a queued slot (see claimDueJobs for which one
  // it gets). A queued slot counts only once the job is free; few jobs ever have one.
  const slotDue = sql`(is_active and next_run <= ${options.now})`;
  const rows = await sql<{ id: string }[]>`
    select id from (
      select id, tenant_id, priority, due_at,
        row_number() over (partition by tenant_id order by priority desc, due_at, id) as turn
      from (
        select id, tenant_id, priority,
          case when ${slotDue} then next_run when queued_for is not null then queued_for
            else retry_at end as due_at
        from cron_job j
        where (${slotDue} or retry_at <= ${options.now}
            or (queued_for is not null and not exists (
              select from cron_job_run r where r.job_id = j.id and r.status = 'running')))
          and timeout_seconds <= ${options.maxTimeoutSeconds}
      ) due_jobs
    ) due left join (${tenantRoomSql(sql)}) caps using (tenant_id)
    where caps.room is null or turn <= caps.room
    order by turn, priority desc, due_at, id
    limit ${options.limit}`;
  return rows.map((row) => row.id);
}
