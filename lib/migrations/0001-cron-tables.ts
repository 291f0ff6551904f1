// cron_job keeps the column names of the earlier Express system so its monitoring SQL runs verbatim.
export default /* sql */ `
create table cron_job (
  id uuid primary key default gen_random_uuid(),
  tenant_id text check (tenant_id is null or char_length(tenant_id) between 1 and 100),
  name text not null check (char_length(name) between 1 and 200),
  schedule text not null,
  timezone text not null default 'UTC',
  function_name text not null,
  is_active boolean not null default true,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  timeout_seconds integer not null default 60 check (timeout_seconds between 1 and 840),
  precise boolean not null default false,
  last_run timestamptz,
  next_run timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint cron_job_next_run_iff_active check ((next_run is null) = (not is_active)),
  constraint cron_job_name_unique unique nulls not distinct (tenant_id, name)
);

-- Only active jobs carry a next_run, so the sweep's "due" scan touches due rows only.
create index cron_job_due on cron_job (next_run) where is_active;
create index cron_job_list on cron_job (created_at, id);

create table cron_job_run (
  id uuid primary key default gen_random_uuid(),
  job_id uuid not null references cron_job (id) on delete cascade,
  scheduled_for timestamptz,
  trigger text not null check (trigger in ('schedule', 'manual')),
  status text not null check (status in ('running', 'success', 'error', 'timeout', 'skipped', 'lost')),
  attempt integer not null default 1 check (attempt >= 1),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  -- A running run whose deadline passes belongs to a process that died; the next sweep marks it lost.
  deadline timestamptz,
  duration_ms integer,
  result jsonb,
  error text,
  constraint cron_job_run_one_per_slot unique (job_id, scheduled_for),
  constraint cron_job_run_finished check ((status = 'running') = (finished_at is null))
);

-- At most one run of a job in progress at a time: the overlap rule, enforced by the database.
create unique index cron_job_run_one_running on cron_job_run (job_id) where status = 'running';
create index cron_job_run_history on cron_job_run (job_id, started_at desc, id desc);
create index cron_job_run_deadline on cron_job_run (deadline) where status = 'running';
`;
