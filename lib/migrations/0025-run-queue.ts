// Runs handed to workers (the dispatcher, run-now). Such a run is `running` from its claim, so
// every guarantee of a run holds while it waits; `dispatched_at` says it waits in the run queue
// and no worker has picked it up yet. The worker that picks it up clears it in the same statement
// that takes the lease, so a message delivered twice starts its run once.
//
// cron_run_queue is the local stand-in of SQS (npm start with WORKERS=N): worker processes take
// the oldest rows (seq order) with skip-locked deletes and are woken by NOTIFY cron_run_queue.
export default /* sql */ `
alter table cron_job_run add column dispatched_at timestamptz;

create table cron_run_queue (
  seq bigint generated always as identity primary key,
  run_id uuid not null,
  enqueued_at timestamptz not null default now()
);
`;
