// GET /api/cron/runs pages through runs across jobs, newest first: without this index every page
// would sort the whole run history (kept RUN_RETENTION_DAYS). One more index per run insert.
export default /* sql */ `
create index cron_job_run_recent on cron_job_run (started_at desc, id desc);
`;
