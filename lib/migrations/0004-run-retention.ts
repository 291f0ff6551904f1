// Run retention walks the run history oldest first (lib/engine/retention.ts). Runs are inserted in
// started_at order, so new entries land on the index's right-most page and cost little to write.
export default /* sql */ `
create index cron_job_run_age on cron_job_run (started_at, id);
`;
