// Who did what to which job, kept apart from the job: append-only (the app role may only insert
// and read; see migration 11), and without a foreign key, so a deleted job's entries stay
// readable by admins until retention. Runs likewise outlive their job now: the delete no longer
// cascades to cron_job_run (retention ages those out). Truncating cron_job, which only tests and
// operators starting over do, still clears the run history, as it did through the cascade.
export default /* sql */ `
create table cron_job_audit (
  id bigint generated always as identity primary key,
  job_id uuid not null,
  -- The job's tenant when the action happened (a move records the tenant it left).
  tenant_id text,
  action text not null check (action in ('create', 'update', 'delete', 'run', 'pause', 'resume')),
  actor text not null,
  actor_tenant_id text,
  request_id text,
  at timestamptz not null default now(),
  -- Field-level before/after: {"field": {"before": …, "after": …}}; secrets redacted.
  changes jsonb not null default '{}' check (jsonb_typeof(changes) = 'object')
);
create index cron_job_audit_job on cron_job_audit (job_id, id);
create index cron_job_audit_tenant on cron_job_audit (tenant_id, id);

alter table cron_job_run drop constraint cron_job_run_job_id_fkey;

create function cron_job_truncate_runs() returns trigger language plpgsql as $$
begin
  truncate cron_job_run cascade;
  return null;
end $$;
create trigger cron_job_truncate_runs after truncate on cron_job
  for each statement execute function cron_job_truncate_runs();
`;
