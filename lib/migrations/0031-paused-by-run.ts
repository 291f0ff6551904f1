// The run whose failed attempt made the engine pause its job (pause_after_failures), written by
// the statement that pauses it (lib/engine/run-state.ts). That statement reads it back from the
// row it wrote to tell whether the pause was its own: another statement may have paused the job
// (or a person), while it waited for the row, and only the one that paused sends job.auto_paused.
// Kept after a resume (the last engine pause's run); null for a job the engine never paused.
export default /* sql */ `
alter table cron_job add column if not exists paused_by_run uuid;
`;
