// The slot each precise or one-off job's exact-time trigger is armed for (null: none armed).
// The partial index holds exactly the jobs whose trigger disagrees with what they need, so the
// sweep's repair pass costs in proportion to the triggers out of step, not to all jobs.
export default /* sql */ `
alter table cron_job add column trigger_armed_for timestamptz;

create index cron_job_trigger_stale on cron_job (id)
where trigger_armed_for is distinct from
  (case when is_active and (precise or schedule like 'at:%') then next_run end);
`;
