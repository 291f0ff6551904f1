// Retries, pause and auto-pause (issue #12).
// - `retry` is the job's retry policy; `retry_at`/`retry_for`/`retry_attempt` hold its one pending
//   retry (when, for which slot, which attempt), cleared when a sweep claims or supersedes it.
// - A paused job is inactive (next_run null, so the sweep's due index never sees it) with a reason,
//   an actor and an optional end; `paused_until` is indexed for the sweep's auto-resume.
// - One run per (job, slot, attempt) replaces one run per (job, slot): retries of a slot are runs
//   of their own, with trigger `retry`.
// - The trigger of a precise or one-off job fires at its next slot or its pending retry,
//   whichever comes first.
export default /* sql */ `
alter table cron_job
  add column retry jsonb not null
    default '{"max_attempts": 1, "backoff": "exponential", "initial_delay_seconds": 30, "max_delay_seconds": 3600}'
    check (jsonb_typeof(retry) = 'object'),
  add column pause_after_failures integer check (pause_after_failures between 1 and 1000),
  add column paused_reason text,
  add column paused_at timestamptz,
  add column paused_by text,
  add column paused_until timestamptz,
  add column retry_at timestamptz,
  add column retry_for timestamptz,
  add column retry_attempt integer,
  add constraint cron_job_paused_is_inactive check (paused_at is null or not is_active),
  add constraint cron_job_pending_retry check (
    (retry_at is null) = (retry_for is null) and (retry_at is null) = (retry_attempt is null));

create index cron_job_retry_due on cron_job (retry_at) where retry_at is not null;
create index cron_job_pause_ends on cron_job (paused_until) where paused_until is not null;

drop index cron_job_trigger_stale;
create index cron_job_trigger_stale on cron_job (id)
where trigger_armed_for is distinct from
  (case when precise or schedule like 'at:%' then least(next_run, retry_at) end);

alter table cron_job_run
  drop constraint cron_job_run_trigger_check,
  add constraint cron_job_run_trigger_check check (trigger in ('schedule', 'manual', 'retry')),
  drop constraint cron_job_run_one_per_slot,
  add constraint cron_job_run_one_per_attempt unique (job_id, scheduled_for, attempt);
`;
