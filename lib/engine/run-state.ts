import type { RunnableJob } from './execute';
import { column, type Sql, type SqlFragment, type TransactionSql } from '../db';
import {
  anyAlertRule,
  insertAlertDeliveries,
  missedSlotEvents,
  runEventData,
} from '../alerts/outbox';
import { consecutiveFailuresAfterRun, counter, metadataAfterRun } from './metadata';
import { defaultRetryPolicy } from './retry-policy';
import type { FinishedStatus } from './execute';

/**
 * Every statement that moves a run between states, each written once. A run's life:
 *
 *   (due slots passed over) --insertClaimedRuns--> missed       (one run per gap, finished at once;
 *                                                                 its slot.missed alert events too)
 *   (queued backfill slot) --insertBackfillRuns--> running      (trigger `backfill`, next attempt)
 *   (claimed slot)  --insertClaimedRuns--> running | skipped     (trigger `schedule`, attempt 1)
 *   (claimed slot, job busy, overlap queue_one) --insertClaimedRuns--> no run; job.queued_for
 *   (queued slot, job free) --insertClaimedRuns--> running      (trigger `schedule`, attempt 1)
 *   (after: job made due)   --insertClaimedRuns--> running | skipped  (trigger `dependency`)
 *   (due retry)     --insertClaimedRuns--> running               (trigger `retry`, attempt n)
 *   (pending retry, next slot due) --insertClaimedRuns--> skipped, "superseded"
 *   (manual)        --insertManualRun----> running               (trigger `manual`)
 *   running --finishRuns---> success | error | timeout   (job: last_run, metadata, retry, pause)
 *   running --markLostRuns-> lost                        (lease ran out; job: metadata, retry, pause)
 *   running --releaseRuns--> (deleted; the job is due again for that slot or retry)
 *   running --renewLeases--> running, lease extended
 *   running, dispatched --pickUpRuns--> running, started by a worker (at most once)
 *
 * A failed, timed-out or lost attempt of a `schedule`, `backfill` or `retry` run with attempts left (the job's
 * `retry.max_attempts`) leaves one pending retry on its job (`retry_at`, `retry_for`,
 * `retry_attempt`), written by the same statement that finishes the run. A slot whose last attempt
 * failed counts in `consecutive_failures`; reaching `pause_after_failures` pauses the job (actor
 * `engine`, reason the last error).
 *
 * Two rules make concurrent callers safe without locks held across a run:
 * - Every move out of `running` is guarded by `status = 'running'` in its own `where`: whichever
 *   statement commits first wins (PostgreSQL re-checks the row after waiting for a concurrent
 *   writer), so a run is finished, declared lost or released exactly once, never twice; and so a
 *   retry is scheduled at most once per failed attempt.
 * - A run is created only under the unique constraints of `cron_job_run`: one run per job, slot
 *   and attempt (`cron_job_run_one_per_attempt`) and one `running` run per job and lane
 *   (`cron_job_run_one_running`; lane 0 unless overlap is `allow`, then below
 *   `max_concurrent_runs`). So each (slot, attempt) runs at most once, however many sweeps and
 *   exact-time triggers race for it, and no job runs more often at once than its overlap allows.
 *
 * A successful run of a job named in an `after:` schedule (`has_dependents`) leaves a
 * `cron_job_dependency_event`, written by the statement that finishes the run (so a crash loses
 * neither or both); dependencies.ts turns the events into due dependents.
 */

/** The error of a run whose process stopped before it finished. */
export const LOST_RUN_ERROR = 'run lost: its process stopped before the run finished';

/** One claimed slot or due retry of one job, as the claim decided it. */
export interface RunClaim {
  job_id: string;
  /** The slot the run is for (a retry keeps its slot). */
  scheduled_for: Date;
  attempt: number;
  trigger: 'schedule' | 'retry' | 'dependency';
  /** The job's next slot after this claim; null leaves (or makes) the job inactive, but an `after:` job stays active. */
  next_run: Date | null;
  /** The job's queued slot after this claim (overlap `queue_one`); null: none waits. */
  queued_for: Date | null;
  /** The lane the run holds while running (see cron_job_run_one_running). */
  lane: number;
  /** The upstream run that made an `after:` job due. */
  triggered_by: string | null;
  /**
   * `skipped` when the job is busy (its runs in progress leave no room); `queued` when the slot
   * waits in `queued_for` instead (no run row yet).
   */
  status: 'running' | 'skipped' | 'queued' | null;
  /** Due slots passed over by this claim (catch-up.ts): recorded as one `missed` run. */
  missed?: { first: Date; last: Date; count: number } | null;
  /** A pending retry this slot supersedes: recorded as a `skipped` run of that slot and attempt. */
  superseded: { scheduled_for: Date; attempt: number } | null;
  /** The job's `consecutive_failures` once the superseded slot counts as failed; null: unchanged. */
  consecutive_failures: number | null;
  /** Set when the superseded slot reaches `pause_after_failures`: the job is paused, nothing runs. */
  pause_reason: string | null;
}

export interface InsertedRun {
  id: string;
  job_id: string;
  status: 'running' | 'skipped';
}

/** Who pauses a job when its failures reach `pause_after_failures`. */
export const ENGINE_ACTOR = 'engine';

/**
 * The offset of a job's runs within their slot, in milliseconds, for the job row `alias`
 * (cron_spread_offset_ms, migration 35, holds the formula; a job without spread skips the call).
 */
export function spreadOffsetSql(sql: Sql | TransactionSql, alias: string): SqlFragment {
  // `alias` is a constant of the calling statement, never input; dots split it into identifiers.
  const column = (name: string) => sql(`${alias}.${name}`);
  return sql`(case when ${column('spread_seconds')} = 0 then 0
    else cron_spread_offset_ms(${column('id')}, ${column('spread_seconds')}) end)`;
}

/** A job's spread offset in milliseconds, from its id (cron_spread_offset_ms), without a job row. */
export async function spreadOffsetOf(
  sql: Sql | TransactionSql,
  jobId: string,
  spreadSeconds: number,
): Promise<number> {
  if (spreadSeconds === 0) return 0;
  const [row] = await sql<{ offset: number }[]>`
    select cron_spread_offset_ms(${jobId}::uuid, ${spreadSeconds}::int) as offset`;
  return row!.offset;
}

/** A superseded retry's note, stored as its run's `error`. */
export function supersededNote(slot: Date): string {
  return `retry superseded by the slot at ${slot.toISOString()}`;
}

/**
 * Moves each claimed job on (`next_run`, its pending retry cleared, or paused) and inserts the
 * claimed run, `running` (with a lease until `deadline`) or `skipped` (finished at once), plus a
 * `skipped` run for any retry it supersedes. Call it in the transaction that locked the job rows
 * (`for update`), so no other claim can move them in between. A (slot, attempt) that already has a
 * run (the exact-time trigger or another sweep got there first) is left alone: `on conflict do
 * nothing` under `cron_job_run_one_per_attempt`, and it is simply absent from the result.
 */
export async function insertClaimedRuns(
  tx: TransactionSql,
  claims: RunClaim[],
  times: { now: Date; deadline: Date },
  options: { dispatched?: boolean } = {},
): Promise<InsertedRun[]> {
  if (claims.length === 0) return [];
  const { now, deadline } = times;
  const byClaim = (pick: (claim: RunClaim) => string | number | Date | null) =>
    column(claims, pick);
  // Runs for the run queue wait there `running`, marked as not yet picked up (see pickUpRuns).
  const dispatchedAt = options.dispatched ? now : null;
  // `slot.missed` events go to the outbox with the missed run they report (both or neither). The
  // CTE is there only when this claim records a missed run: the common claim is planned without it.
  const missedAlerts = claims.some((c) => c.missed)
    ? tx`missed_alerts as (${insertAlertDeliveries(tx, missedSlotEvents(tx, tx`missed`, now))}),`
    : tx``;
  // A superseded retry that reaches pause_after_failures pauses the job here: the engine's
  // auto-pause, so its `job.auto_paused` event goes to the outbox in this statement too. The claim
  // holds the job rows (`for update`), so the pause decided is the pause written.
  const pauseAlerts = claims.some((c) => c.pause_reason)
    ? tx`, pause_alerts as (${insertAlertDeliveries(tx, supersededPauseEvents(tx, now))})`
    : tx``;
  return tx<InsertedRun[]>`
    with c as (
      select * from unnest(
        ${byClaim((c) => c.job_id)}::uuid[], ${byClaim((c) => c.scheduled_for)}::timestamptz[],
        ${byClaim((c) => c.attempt)}::integer[], ${byClaim((c) => c.trigger)}::text[],
        ${byClaim((c) => c.next_run)}::timestamptz[], ${byClaim((c) => c.queued_for)}::timestamptz[],
        ${byClaim((c) => c.lane)}::smallint[], ${byClaim((c) => c.triggered_by)}::uuid[],
        ${byClaim((c) => c.status)}::text[],
        ${byClaim((c) => c.superseded?.scheduled_for ?? null)}::timestamptz[],
        ${byClaim((c) => c.superseded?.attempt ?? null)}::integer[],
        ${byClaim((c) => (c.superseded ? supersededNote(c.scheduled_for) : null))}::text[],
        ${byClaim((c) => c.consecutive_failures)}::integer[], ${byClaim((c) => c.pause_reason)}::text[],
        ${byClaim((c) => c.missed?.first ?? null)}::timestamptz[],
        ${byClaim((c) => c.missed?.last ?? null)}::timestamptz[],
        ${byClaim((c) => c.missed?.count ?? null)}::integer[]
      ) as c(job_id, scheduled_for, attempt, trigger, next_run, queued_for, lane, triggered_by,
        status, superseded_for, superseded_attempt, superseded_note, consecutive_failures,
        pause_reason, missed_first, missed_last, missed_count)
    ), advanced as (
      update cron_job j set
        next_run = case when c.pause_reason is null then c.next_run end,
        is_active = c.pause_reason is null and (c.next_run is not null or j.after_job_ids is not null),
        queued_for = case when c.pause_reason is null then c.queued_for end,
        -- A queued dependency run keeps the upstream run that triggered it until it runs.
        triggered_by = case when c.status = 'queued' or c.trigger = 'retry' then j.triggered_by end,
        retry_at = null, retry_for = null, retry_attempt = null,
        metadata = case when c.consecutive_failures is null then j.metadata
          else j.metadata || jsonb_build_object('consecutive_failures', c.consecutive_failures) end,
        paused_at = case when c.pause_reason is null then j.paused_at else ${now} end,
        paused_by = case when c.pause_reason is null then j.paused_by else ${ENGINE_ACTOR} end,
        paused_reason = coalesce(c.pause_reason, j.paused_reason),
        -- Slots that pass without a run: a missed gap's slots, and a slot skipped because the
        -- job's previous run still goes on (overlap; its own skipped run).
        missed_count = least(j.missed_count::bigint + coalesce(c.missed_count, 0)
          + (c.status is not distinct from 'skipped')::int, 2147483647)
      from c
      where j.id = c.job_id
    ), missed as (
      insert into cron_job_run (job_id, scheduled_for, trigger, attempt, status, started_at,
        finished_at, duration_ms, missed_count, missed_last)
      select c.job_id, c.missed_first, 'schedule', 1, 'missed', ${now}, ${now}, 0, c.missed_count,
        c.missed_last
      from c where c.missed_first is not null
      on conflict do nothing
      returning id, job_id, status, trigger, attempt, scheduled_for, finished_at, duration_ms,
        error, missed_count, missed_last
    ), ${missedAlerts} superseded as (
      insert into cron_job_run (job_id, scheduled_for, trigger, attempt, status, started_at,
        finished_at, duration_ms, error)
      select c.job_id, c.superseded_for, 'retry', c.superseded_attempt, 'skipped', ${now}, ${now}, 0,
        c.superseded_note
      from c where c.superseded_for is not null
      on conflict do nothing
      returning id, job_id, status, trigger, attempt, scheduled_for, finished_at, duration_ms,
        error
    )${pauseAlerts}
    insert into cron_job_run (job_id, scheduled_for, trigger, attempt, status, started_at,
      finished_at, deadline, duration_ms, lane, triggered_by, dispatched_at)
    select c.job_id, c.scheduled_for, c.trigger, c.attempt, c.status, ${now},
      case when c.status = 'skipped' then ${now}::timestamptz end,
      case when c.status = 'running' then ${deadline}::timestamptz end,
      case when c.status = 'skipped' then 0 end,
      case when c.status = 'running' then c.lane else 0 end,
      c.triggered_by,
      case when c.status = 'running' then ${dispatchedAt}::timestamptz end
    from c
    where c.pause_reason is null and c.status <> 'queued'
    on conflict do nothing
    returning id, job_id, status`;
}

/**
 * The `job.auto_paused` events of the claims `c` whose superseded retry paused their job, at `now`,
 * with the job's consecutive failed slots and the superseded run (`superseded`, the sibling CTE)
 * as the run. Gated by anyAlertRule.
 */
function supersededPauseEvents(tx: TransactionSql, now: Date): SqlFragment {
  const data = runEventData(
    tx,
    tx`jsonb_build_object('consecutive_failures', c.consecutive_failures)`,
  );
  return tx`
    select gen_random_uuid() as event_id, 'job.auto_paused' as event_type, j.id as job_id,
      j.tenant_id, o.id as run_id, c.consecutive_failures as failures,
      ${now}::timestamptz as occurred_at, ${data} as data
    from c join cron_job j on j.id = c.job_id
    left join superseded o on o.job_id = c.job_id
    where c.pause_reason is not null and ${anyAlertRule(tx)}`;
}

/** A run that did not run its slot: a backfill may still run that slot. */
export const NOT_RUN_STATUSES = ['missed', 'skipped'] as const;

/**
 * Takes queued backfill slots (cron_job_backfill) off the queue and inserts a `running` run for
 * each (trigger `backfill`, lease until `deadline`), in the caller's transaction, which has locked
 * the jobs. A slot that has run meanwhile (any run of it but `missed` or `skipped`) is only taken
 * off the queue. The run's attempt is the next free one for its slot, so a slot recorded `missed`
 * or `skipped` at attempt 1 runs as attempt 2. A slot whose insert meets a unique constraint
 * (another run of the job holds its lane: a run that started after the caller's check) stays
 * queued for a later claim: the queue row goes only with a run inserted for it, or with a run that
 * already ran it.
 */
export async function insertBackfillRuns(
  tx: TransactionSql,
  slots: { job_id: string; scheduled_for: Date }[],
  times: { now: Date; deadline: Date },
): Promise<{ id: string; job_id: string; scheduled_for: Date; attempt: number }[]> {
  if (slots.length === 0) return [];
  const ran = tx`exists (select from cron_job_run r
    where r.job_id = c.job_id and r.scheduled_for = c.scheduled_for
      and r.status <> all(${[...NOT_RUN_STATUSES]}::text[]))`;
  return tx<{ id: string; job_id: string; scheduled_for: Date; attempt: number }[]>`
    with c as (
      select c.job_id, c.scheduled_for
      from unnest(${column(slots, (s) => s.job_id)}::uuid[],
        ${column(slots, (s) => s.scheduled_for)}::timestamptz[]) as c(job_id, scheduled_for)
      join cron_job_backfill b using (job_id, scheduled_for)
    ), inserted as (
      insert into cron_job_run (job_id, scheduled_for, trigger, attempt, status, started_at, deadline)
      select c.job_id, c.scheduled_for, 'backfill',
        coalesce((select max(r.attempt) from cron_job_run r
          where r.job_id = c.job_id and r.scheduled_for = c.scheduled_for), 0) + 1,
        'running', ${times.now}, ${times.deadline}
      from c
      where not ${ran}
      on conflict do nothing
      returning id, job_id, scheduled_for, attempt
    ), taken as (
      delete from cron_job_backfill b using c
      where b.job_id = c.job_id and b.scheduled_for = c.scheduled_for
        and (${ran} or exists (select from inserted i
          where i.job_id = c.job_id and i.scheduled_for = c.scheduled_for))
    )
    select * from inserted`;
}

/**
 * Inserts a `manual` run of a job, `running` with a lease until `deadline`, unless the job is
 * busy (a run in progress; overlap `allow`: no free lane below `max_concurrent_runs`): then it
 * returns null. A concurrent insert that slips past the check fails on
 * `cron_job_run_one_running`; callers map that violation to "busy" too.
 */
export async function insertManualRun(
  tx: TransactionSql,
  jobId: string,
  deadline: Date,
  options: { dispatched?: boolean } = {},
): Promise<{ id: string } | null> {
  const [run] = await tx<{ id: string }[]>`
    insert into cron_job_run (job_id, trigger, status, deadline, lane, dispatched_at)
    select j.id, 'manual', 'running', ${deadline}, free.lane,
      ${options.dispatched ? new Date() : null}::timestamptz
    from cron_job j
    cross join lateral (
      select min(l) as lane
      from generate_series(0, case when j.overlap = 'allow' then j.max_concurrent_runs - 1 else 0 end) l
      where not exists (select from cron_job_run r
        where r.job_id = j.id and r.status = 'running' and (r.lane = l or j.overlap <> 'allow'))
    ) free
    where j.id = ${jobId} and free.lane is not null
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
 * Finishes `running` runs with their outcomes and, in the same statement, updates their jobs:
 * `last_run`, engine metadata, a pending retry when attempts are left, or an auto-pause (see
 * jobAfterAttempt). A run no longer `running` (another sweep declared it lost) keeps its verdict
 * and is absent from the result. Idempotent: repeating the call changes nothing, so callers may
 * retry it after a transient failure.
 */
export async function finishRuns(sql: Sql, outcomes: FinishedRun[]): Promise<{ id: string }[]> {
  if (outcomes.length === 0) return [];
  const byOutcome = (pick: (outcome: FinishedRun) => string | number | Date | null) =>
    column(outcomes, pick);
  // A retry's delay and an alert's time count from the attempt's end on the clock that started
  // it (started_at is the sweep's clock, which tests move).
  const endedAt = sql`o.started_at + o.duration_ms * interval '1 millisecond'`;
  return sql<{ id: string }[]>`
    with outcome as (
      select * from unnest(
        ${byOutcome((o) => o.run_id)}::uuid[], ${byOutcome((o) => o.status)}::text[],
        ${byOutcome((o) => o.finished_at)}::timestamptz[], ${byOutcome((o) => o.duration_ms)}::integer[],
        ${byOutcome((o) => (o.result === null || o.result === undefined ? null : JSON.stringify(o.result)))}::text[],
        ${byOutcome((o) => o.error)}::text[]
      ) as o(run_id, status, finished_at, duration_ms, result_json, error)
    ), finished as (
      update cron_job_run r
      set status = o.status, finished_at = o.finished_at, duration_ms = o.duration_ms,
        result = o.result_json::jsonb, error = o.error, deadline = null
      from outcome o
      where r.id = o.run_id and r.status = 'running'
      returning r.id, r.job_id, r.started_at, r.trigger, r.attempt, r.scheduled_for, r.status,
        r.error, r.duration_ms, r.finished_at
    ), jobs as (
      update cron_job j set last_run = o.started_at, ${jobAfterAttempt(sql, endedAt)}
      from finished o
      where j.id = o.job_id
      returning j.id as job_id, j.tenant_id, j.has_dependents, o.id as run_id, o.status,
        o.finished_at, ${pausedByAttempt(sql)}
    ), dependency_events as (
      insert into cron_job_dependency_event (upstream_job_id, tenant_id, run_id, finished_at)
      select job_id, tenant_id, run_id, finished_at from jobs
      where has_dependents and status = 'success'
    ), alerts as (${insertAlertDeliveries(sql, attemptEvents(sql, sql`finished`, sql`jobs`, endedAt))})
    select id from finished`;
}

/**
 * Declares lost every `running` run whose lease ran out before `now` (its process died or was
 * frozen), counts it as a failed attempt of its job (retried like one), and so frees the job: the
 * one-running-run-per-job index no longer blocks it. Cost is proportional to running runs.
 */
export async function markLostRuns(
  sql: Sql,
  now: Date,
): Promise<{ job_id: string; run_id: string }[]> {
  // One index probe when nothing is lost (nearly always, and every idle sweep asks): planning the
  // statement below, with its retry, pause and alert expressions, costs milliseconds unprepared
  // (behind RDS Proxy). A run lost just after the probe is found by the next sweep.
  const [any] = await sql`
    select from cron_job_run where status = 'running' and deadline < ${now} limit 1`;
  if (!any) return [];
  return sql<{ job_id: string; run_id: string }[]>`
    with o as (
      update cron_job_run
      set status = 'lost', finished_at = ${now}, error = ${LOST_RUN_ERROR}, deadline = null,
        duration_ms = greatest(0, round(extract(epoch from (${now}::timestamptz - started_at)) * 1000))
      where status = 'running' and deadline < ${now}
      returning id, job_id, status, error, duration_ms, trigger, attempt, scheduled_for, finished_at
    ), jobs as (
      update cron_job j set ${jobAfterAttempt(sql, sql`${now}::timestamptz`)}
      from o where j.id = o.job_id
      returning o.id as run_id, ${pausedByAttempt(sql)}
    ), alerts as (${insertAlertDeliveries(sql, attemptEvents(sql, sql`o`, sql`jobs`, sql`${now}::timestamptz`))})
    select job_id, id as run_id from o`;
}

/**
 * The `set` list for the job `j` of a finished attempt `o` (with `status`, `error`, `duration_ms`,
 * `trigger`, `attempt`, `scheduled_for`, `finished_at`). Every expression reads `j` as the update
 * sees it, after waiting for any concurrent writer of the row, so a job paused or deactivated
 * meanwhile gets no retry and is not paused twice.
 * - retry: the attempt failed, it belongs to a slot (not a manual run), attempts are left, and the
 *   job is neither paused nor deactivated (a one-off job is inactive once claimed, yet retried).
 *   Delay: full jitter, uniformly random in [0, retryDelayCapSeconds(policy, attempt)]
 *   (retry-policy.ts, which the SQL below mirrors).
 * - pause: the attempt ended its slot as a failure and `consecutive_failures` reaches
 *   `pause_after_failures`; the job becomes inactive with the last error as its reason.
 */
// retry_at is kept to the millisecond, the resolution of the clocks that compare with it.
function jobAfterAttempt(sql: Sql, retryFrom: SqlFragment) {
  const { retries, slotFailed, failures, pauses } = attemptVerdicts(sql);
  const delaySeconds = sql`random() * least(
    coalesce((j.retry->>'max_delay_seconds')::float8, ${defaultRetryPolicy.max_delay_seconds}),
    coalesce((j.retry->>'initial_delay_seconds')::float8, ${defaultRetryPolicy.initial_delay_seconds})
      * case when j.retry->>'backoff' = 'fixed' then 1 else power(2, o.attempt - 1) end)`;
  return sql`
    metadata = ${metadataAfterRun(sql, slotFailed)},
    retry_at = case when ${retries}
        then date_trunc('milliseconds', ${retryFrom} + ${delaySeconds} * interval '1 second')
      when ${pauses} then null else j.retry_at end,
    retry_for = case when ${retries} then o.scheduled_for when ${pauses} then null
      else j.retry_for end,
    retry_attempt = case when ${retries} then o.attempt + 1 when ${pauses} then null
      else j.retry_attempt end,
    is_active = case when ${pauses} then false else j.is_active end,
    next_run = case when ${pauses} then null else j.next_run end,
    paused_at = case when ${pauses} then o.finished_at else j.paused_at end,
    paused_by = case when ${pauses} then ${ENGINE_ACTOR} else j.paused_by end,
    paused_by_run = case when ${pauses} then o.id else j.paused_by_run end,
    paused_reason = case when ${pauses}
      then ${failures} || ' consecutive failed slots; last error: ' || coalesce(o.error, o.status)
      else j.paused_reason end`;
}

/** What a finished attempt `o` means for its job `j` (as the row was before the attempt). */
function attemptVerdicts(sql: Sql) {
  const retries = sql`(o.status <> 'success' and o.trigger <> 'manual'
    and o.attempt < coalesce((j.retry->>'max_attempts')::int, ${defaultRetryPolicy.max_attempts})
    and j.paused_at is null and (j.is_active or j.schedule like 'at:%'))`;
  const slotFailed = sql`(o.status <> 'success' and o.trigger <> 'manual' and not ${retries})`;
  const failures = consecutiveFailuresAfterRun(sql, slotFailed);
  const pauses = sql`(${slotFailed} and j.is_active and j.pause_after_failures is not null
    and ${failures} >= j.pause_after_failures)`;
  return { retries, slotFailed, failures, pauses };
}

/**
 * For the `returning` list of the update of job `j` from a finished attempt `o` (jobAfterAttempt):
 * `paused`, whether this update paused the job, and `failures_after`, its consecutive failed
 * slots as written. Read from the row as written, not as the statement's snapshot had it: when a
 * concurrent writer changed the row first (a pause by hand, another failing run of the job), the
 * update decided on the changed row, and so does this: the job names this attempt's run as the
 * one that paused it (`paused_by_run`, migration 31) only if this update paused it.
 */
function pausedByAttempt(sql: Sql) {
  return sql`coalesce(j.paused_by_run = o.id, false) as paused,
    ${counter(sql, 'consecutive_failures')}::int as failures_after`;
}

/**
 * The alert events of the finished attempts in `finished` (a CTE of the same statement, with the
 * columns jobAfterAttempt reads plus `id` and `job_id`), for the outbox (lib/alerts/outbox.ts),
 * at `endedAt` (the attempt's end on the sweep's clock, as its retry counts). `updated` is the
 * CTE that updated their jobs, returning `run_id` and pausedByAttempt's columns.
 * - a failed attempt that ends its slot (no retry follows) or a failed manual run: `run.failed`,
 *   `run.timed_out` or `run.lost`, with the job's consecutive failed slots (at least 1);
 * - a success after failed slots: `job.recovered`, with the count it recovered from;
 * - an attempt whose update paused the job: `job.auto_paused` as well, once, with the count as
 *   written. Taken from `updated`, not from the snapshot: a job paused by hand, or by another
 *   failing run, while this statement waited for its row, is not paused by it and gets no event.
 * The run events read the job row as it was before the statement (a CTE does not see its
 * siblings' writes), so their counts are those of the snapshot.
 * Gated by anyAlertRule: without an enabled rule nothing here is computed.
 */
function attemptEvents(
  sql: Sql,
  finished: SqlFragment,
  updated: SqlFragment,
  endedAt: SqlFragment,
): SqlFragment {
  const { retries, failures } = attemptVerdicts(sql);
  const before = counter(sql, 'consecutive_failures');
  const failedType = sql`case o.status when 'error' then 'run.failed'
    when 'timeout' then 'run.timed_out' when 'lost' then 'run.lost' end`;
  const counted = sql`case when o.status = 'success' then ${before} else greatest(${failures}, 1) end`;
  const data = runEventData(sql, sql`jsonb_build_object('consecutive_failures', e.failures)`);
  return sql`
    select gen_random_uuid() as event_id, e.event_type, j.id as job_id, j.tenant_id,
      o.id as run_id, e.failures::int as failures, ${endedAt} as occurred_at, ${data} as data
    from ${finished} o join cron_job j on j.id = o.job_id
    cross join lateral (values
      (case when o.status = 'success' then case when ${before} > 0 then 'job.recovered' end
        when ${retries} then null else ${failedType} end, ${counted})
    ) as e (event_type, failures)
    where ${anyAlertRule(sql)} and e.event_type is not null
    union all
    select gen_random_uuid(), e.event_type, j.id, j.tenant_id, o.id, e.failures, ${endedAt},
      ${data}
    from ${updated} p join ${finished} o on o.id = p.run_id join cron_job j on j.id = o.job_id
    cross join lateral (values ('job.auto_paused', p.failures_after)) as e (event_type, failures)
    where ${anyAlertRule(sql)} and p.paused`;
}

/**
 * Gives back claimed runs that were never started (the sweep ran out of time): their run rows go
 * and each job is due again for what it was claimed for: a slot's job at that slot (an `after:`
 * job at its trigger, with the upstream run that triggered it), a retry's
 * job with that retry pending again, a backfill run's slot queued again. Only `running` rows are released, so a run finished or
 * declared lost meanwhile stays (a manual run simply goes). `notPickedUp`: only dispatched runs
 * no worker has picked up (their queue message could not be sent), so a run a worker already
 * started is never taken from under it.
 */
export async function releaseRuns(
  sql: Sql,
  runIds: string[],
  options: { notPickedUp?: boolean } = {},
): Promise<void> {
  if (runIds.length === 0) return;
  await sql`
    with released as (
      delete from cron_job_run where id in ${sql(runIds)} and status = 'running'
        ${options.notPickedUp ? sql`and dispatched_at is not null` : sql``}
      returning job_id, scheduled_for, trigger, attempt, started_at, triggered_by
    ), slots as (
      update cron_job j
      set next_run = r.scheduled_for + ${spreadOffsetSql(sql, 'j')} * interval '1 millisecond',
        is_active = true,
        triggered_by = coalesce(r.triggered_by, j.triggered_by)
      from released r
      where r.trigger in ('schedule', 'dependency') and j.id = r.job_id
        and (j.is_active or j.schedule like 'at:%')
    ), backfill as (
      insert into cron_job_backfill (job_id, scheduled_for)
      select r.job_id, r.scheduled_for from released r where r.trigger = 'backfill'
      on conflict do nothing
    )
    update cron_job j
    set retry_at = r.started_at, retry_for = r.scheduled_for, retry_attempt = r.attempt
    from released r
    where r.trigger = 'retry' and j.id = r.job_id and j.paused_at is null
      and (j.is_active or j.schedule like 'at:%')`;
}

/** Extends the lease of runs still `running` to `deadline`, so no sweep declares them lost. */
export async function renewLeases(sql: Sql, runIds: string[], deadline: Date): Promise<void> {
  if (runIds.length === 0) return;
  await sql`
    update cron_job_run set deadline = ${deadline}
    where id in ${sql(runIds)} and status = 'running'`;
}

/** A dispatched run a worker picked up, with what it needs to execute it. */
export interface PickedRun extends RunnableJob {
  run_id: string;
  /** The slot; null for a manual run. */
  scheduled_for: Date | null;
}

/**
 * A worker takes dispatched runs: each one still `running` and not yet picked up gets its start
 * time (`now`), a lease until `deadline` and `dispatched_at` cleared, in one statement. A run picked
 * up already (a message delivered twice), finished, released or declared lost meanwhile is left
 * alone and absent from the result, so a run starts at most once however often it is delivered.
 */
export async function pickUpRuns(
  sql: Sql | TransactionSql,
  runIds: string[],
  times: { now: Date; deadline: Date },
): Promise<PickedRun[]> {
  if (runIds.length === 0) return [];
  return sql<PickedRun[]>`
    update cron_job_run r
    set dispatched_at = null, started_at = ${times.now}, deadline = ${times.deadline}
    from cron_job j
    where r.id = any(${runIds}::uuid[]) and r.status = 'running' and r.dispatched_at is not null
      and j.id = r.job_id
    returning r.id as run_id, r.scheduled_for, r.attempt, j.id, j.name, j.tenant_id,
      j.function_name, j.metadata, j.timeout_seconds`;
}
