// Overlap policy, claim priority and dependency schedules (issue #13 items 4, 7 and 8).
// - `overlap` says what a slot that comes due while the job runs does: `skip` (a skipped run),
//   `queue_one` (it waits in `queued_for`, one slot at most, and runs once the job is free) or
//   `allow` (it runs alongside, up to `max_concurrent_runs`).
// - A running run holds a `lane` (0 unless overlap is `allow`): the one-running-run index becomes
//   one running run per (job, lane), so the database still bounds a job's concurrent runs.
// - `priority` orders the claim among due jobs (within each tenant's turn of the fair order).
// - `after:` jobs keep their upstream job ids in `after_job_ids` (GIN-indexed, to find the
//   dependents of a job); an upstream job carries `has_dependents`, so finishing a run of any other
//   job costs nothing more. A success of such a job leaves a `cron_job_dependency_event` in the
//   statement that records it; the sweep consumes the events, collects them per dependent in
//   `dependency_runs` ({upstream job id: run id}) and makes the dependent due (next_run) once all
//   of its upstream jobs have succeeded, noting the run that completed the set in `triggered_by`.
// - An active `after:` job has no next slot: next_run is null until its upstream jobs trigger it.
export default /* sql */ `
alter table cron_job
  add column overlap text not null default 'skip'
    check (overlap in ('skip', 'queue_one', 'allow')),
  add column max_concurrent_runs integer not null default 1
    check (max_concurrent_runs between 1 and 100),
  add column priority smallint not null default 0 check (priority between -10 and 10),
  add column queued_for timestamptz,
  add column after_job_ids uuid[],
  add column has_dependents boolean not null default false,
  add column dependency_runs jsonb not null default '{}'
    check (jsonb_typeof(dependency_runs) = 'object'),
  add column triggered_by uuid,
  add constraint cron_job_concurrency_needs_allow check (overlap = 'allow' or max_concurrent_runs = 1),
  add constraint cron_job_after_job_ids check ((after_job_ids is null) = (schedule not like 'after:%')),
  drop constraint cron_job_next_run_iff_active,
  add constraint cron_job_next_run_iff_active check (
    case when after_job_ids is null then (next_run is null) = (not is_active)
      else is_active or next_run is null end);

create index cron_job_queued on cron_job (queued_for) where queued_for is not null;
create index cron_job_dependents on cron_job using gin (after_job_ids) where after_job_ids is not null;

alter table cron_job_run
  add column lane smallint not null default 0 check (lane >= 0),
  add column triggered_by uuid,
  drop constraint cron_job_run_trigger_check,
  add constraint cron_job_run_trigger_check
    check (trigger in ('schedule', 'manual', 'retry', 'dependency'));

drop index cron_job_run_one_running;
create unique index cron_job_run_one_running on cron_job_run (job_id, lane) where status = 'running';

create table cron_job_dependency_event (
  id bigint generated always as identity primary key,
  upstream_job_id uuid not null,
  tenant_id text,
  run_id uuid not null,
  finished_at timestamptz not null
);

create function cron_job_truncate_dependency_events() returns trigger language plpgsql as $$
begin
  truncate cron_job_dependency_event;
  return null;
end $$;
create trigger cron_job_truncate_dependency_events after truncate on cron_job
  for each statement execute function cron_job_truncate_dependency_events();
`;
