// Backfill (issue #13 item 3): POST /jobs/{id}/backfill queues past slots in cron_job_backfill
// (migration 35); the sweep runs them with trigger `backfill`, so a run says why it ran late. The
// request is audited with action `backfill`.
export default /* sql */ `
alter table cron_job_run
  drop constraint cron_job_run_trigger_check,
  add constraint cron_job_run_trigger_check
    check (trigger in ('schedule', 'manual', 'retry', 'dependency', 'backfill'));

alter table cron_job_audit
  drop constraint cron_job_audit_action_check,
  add constraint cron_job_audit_action_check
    check (action in ('create', 'update', 'delete', 'run', 'pause', 'resume', 'backfill'));
`;
