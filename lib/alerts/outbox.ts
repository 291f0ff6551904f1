import type { Sql, SqlFragment, TransactionSql } from '../db';
import { COUNTED_EVENTS } from './events';

/**
 * The outbox write: a data-modifying CTE body that turns events into pending deliveries, one per
 * (event, destination) of the enabled rules that ask for them. Meant for the statement that
 * records the run outcome (lib/engine/run-state.ts), so an event exists exactly when its outcome
 * does: both commit or neither.
 *
 * `events` is a query with the columns `event_id uuid, event_type text, job_id uuid, tenant_id
 * text, run_id uuid, failures integer, occurred_at timestamptz, data jsonb`. It should be gated by
 * `anyAlertRule(sql)`: without an enabled rule the events are never even computed, so a sweep
 * without alerts pays one index probe per statement.
 *
 * A rule matches an event when it is enabled, lists the event's type, covers the job (its job, or
 * with no job: every job of its tenant, and for a global rule every job), and, for a failure event
 * or `job.recovered`, `failures` reaches its `after_consecutive_failures`. Several rules naming the
 * same destination give one delivery (`distinct on`). Each event id is new, so nothing else can
 * conflict with it.
 */
export function insertAlertDeliveries(sql: Sql | TransactionSql, events: SqlFragment): SqlFragment {
  return sql`
    insert into cron_alert_delivery (event_id, event_type, destination_id, rule_id, tenant_id,
      job_id, run_id, payload, next_attempt_at, created_at)
    select distinct on (e.event_id, r.destination_id) e.event_id, e.event_type, r.destination_id,
      r.id, e.tenant_id, e.job_id, e.run_id, e.data, e.occurred_at, e.occurred_at
    from (${events}) e
    join cron_alert_rule r on r.enabled and e.event_type = any (r.events)
      and (r.job_id = e.job_id
        or (r.job_id is null and (r.tenant_id is null or r.tenant_id = e.tenant_id)))
      and (e.event_type <> all (${COUNTED_EVENTS as string[]}::text[])
        or e.failures >= r.after_consecutive_failures)
    order by e.event_id, r.destination_id, r.id`;
}

/** True when some rule is enabled; uncorrelated, so PostgreSQL evaluates it once per statement. */
export function anyAlertRule(sql: Sql | TransactionSql): SqlFragment {
  return sql`exists (select from cron_alert_rule where enabled)`;
}

/**
 * The event's `data` for a run `o` of job `j` (see AlertEventData), with `fields` (a jsonb
 * object: `consecutive_failures`, or `missed`) merged in.
 */
export function runEventData(sql: Sql | TransactionSql, fields: SqlFragment): SqlFragment {
  return sql`(jsonb_build_object(
    'job', jsonb_build_object('id', j.id, 'name', j.name, 'tenant_id', j.tenant_id,
      'function_name', j.function_name),
    'run', jsonb_build_object('id', o.id, 'status', o.status, 'trigger', o.trigger,
      'attempt', o.attempt, 'scheduled_for', o.scheduled_for, 'finished_at', o.finished_at,
      'duration_ms', o.duration_ms, 'error', o.error)) || ${fields})`;
}

/**
 * The `slot.missed` events of the `missed` runs in `missed` (a CTE of the statement that inserts
 * them, returning the run's columns plus `missed_count` and `missed_last`), at `at`: one event per
 * missed run, that is per gap of passed-over slots, not per slot; `data.missed` says which slots
 * (`first`, `last`, both inclusive) and how many. Gated by anyAlertRule.
 */
export function missedSlotEvents(
  sql: Sql | TransactionSql,
  missed: SqlFragment,
  at: Date,
): SqlFragment {
  const fields = sql`jsonb_build_object('missed', jsonb_build_object('first', o.scheduled_for,
    'last', o.missed_last, 'count', o.missed_count))`;
  return sql`
    select gen_random_uuid() as event_id, 'slot.missed' as event_type, j.id as job_id,
      j.tenant_id, o.id as run_id, 0 as failures, ${at}::timestamptz as occurred_at,
      ${runEventData(sql, fields)} as data
    from ${missed} o join cron_job j on j.id = o.job_id
    where ${anyAlertRule(sql)}`;
}
