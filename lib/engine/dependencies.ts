import type { Sql } from '../db';

/** Most dependency events one sweep turns into due jobs; the rest wait for the next sweep. */
const EVENT_BATCH = 10_000;

/**
 * Makes `after:` jobs due whose upstream jobs have all succeeded since they last ran. Each
 * successful run of an upstream job left one `cron_job_dependency_event` in the statement that
 * recorded the success (finishRuns, run-state.ts). This one statement consumes a batch of events
 * and, per dependent job, merges them into `dependency_runs` ({upstream job id: run id}); a
 * dependent whose every upstream job is in there becomes due (`next_run`, the upstream run's end),
 * notes the run that completed the set in `triggered_by`, and starts collecting afresh.
 *
 * Guarantees, whatever the timing:
 * - Crash-safe: the events are deleted in the same statement that applies them, so a crash
 *   applies all of them or none (they stay for the next sweep).
 * - Exactly once: `for update skip locked` gives each event to one sweep; concurrent sweeps take
 *   others. Two sweeps applying different upstream jobs' events to one dependent serialize on its
 *   row: the second waits and re-evaluates the `set` list on the row the first wrote (READ
 *   COMMITTED), so a fan-in completed by two sweeps at once fires once, never zero times or twice.
 * - Successes of the same upstream job before the dependent runs count once ("since its last
 *   run"): they only rewrite that job's key; and a dependent already due stays due at its first
 *   trigger.
 * - Only jobs of the same tenant (global jobs with global jobs) depend on each other, as the job
 *   service checks on every write; the join checks again. Inactive and paused dependents drop
 *   their events: they do not run for what happened while they were off.
 * Cost: one statement per sweep; with no events, one index probe.
 */
export async function fireDependencies(sql: Sql): Promise<number> {
  const fired = await sql<{ id: string }[]>`
    with consumed as (
      delete from cron_job_dependency_event
      where id in (select id from cron_job_dependency_event order by id limit ${EVENT_BATCH}
        for update skip locked)
      returning id, upstream_job_id, tenant_id, run_id, finished_at
    ), per_job as (
      select d.id as job_id, jsonb_object_agg(c.upstream_job_id, c.run_id order by c.id) as runs,
        max(c.finished_at) as at,
        (array_agg(c.run_id order by c.finished_at desc, c.id desc))[1] as last_run
      from consumed c
      join cron_job d on d.after_job_ids @> array[c.upstream_job_id]
        and d.tenant_id is not distinct from c.tenant_id
      group by d.id
    ), applied as (
      update cron_job d set
        dependency_runs = case when (d.dependency_runs || p.runs) ?& d.after_job_ids::text[]
          then '{}' else d.dependency_runs || p.runs end,
        next_run = case when (d.dependency_runs || p.runs) ?& d.after_job_ids::text[]
          then least(coalesce(d.next_run, p.at), p.at) else d.next_run end,
        triggered_by = case when (d.dependency_runs || p.runs) ?& d.after_job_ids::text[]
          then p.last_run else d.triggered_by end
      from per_job p
      where d.id = p.job_id and d.is_active and d.paused_at is null
      returning d.id, d.dependency_runs = '{}' as ready
    )
    select id from applied where ready`;
  return fired.length;
}
