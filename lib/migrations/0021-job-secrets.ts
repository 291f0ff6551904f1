// Write-only secrets of jobs (see lib/job-secrets.ts), apart from metadata, which the API returns.
export default /* sql */ `
create table cron_job_secret (
  job_id uuid primary key references cron_job (id) on delete cascade,
  secret text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
`;
