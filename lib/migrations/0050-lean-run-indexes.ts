// Every run is written twice (inserted when claimed, updated when it finishes), and neither write
// can be a HOT update, so each index on cron_job_run costs two entries per run. The newest-first
// runs listing reads cron_job_run_age backwards, which gives the same order as the descending
// index of migration 23, so that index goes.
export default /* sql */ `
drop index cron_job_run_recent;
`;
