// The system panel's facts: the last sweep's summary (one row, overwritten by each sweep), and
// the failed runs of the last day found without scanning the run history (a partial index, so a
// successful run costs nothing more to write).
export default /* sql */ `
create table cron_sweep_state (
  id boolean primary key default true check (id),
  finished_at timestamptz not null,
  summary jsonb not null
);
create index cron_job_run_failures on cron_job_run (started_at)
  where status in ('error', 'timeout', 'lost');
`;
