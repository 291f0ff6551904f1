// What an executor logs during a run, kept with the run: one row a line, numbered from 1 within
// the run. Bounded by the writer (lib/run-log/limits.ts), so no run can fill the table; the rows
// go when their run goes (retention, or the job's deletion).
export default /* sql */ `
create table cron_job_run_log (
  run_id uuid not null references cron_job_run (id) on delete cascade,
  seq integer not null check (seq >= 1),
  at timestamptz not null,
  level text not null check (level in ('debug', 'info', 'warn', 'error')),
  message text not null,
  fields jsonb,
  primary key (run_id, seq)
);
`;
