// The sweep rewrites a job row twice per run. Free space on each page lets the second rewrite
// (last_run and metadata, which no index covers) stay on its page as a HOT update. Lost-run
// recovery scans the one-running-run-per-job index instead of a second index over the same rows,
// which every run insert and finish had to maintain.
export default /* sql */ `
alter table cron_job set (fillfactor = 80);
alter table cron_job_run set (fillfactor = 90);
drop index cron_job_run_deadline;
`;
