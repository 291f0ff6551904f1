// Why a job was switched off by the system rather than by a person: a default job whose CRM
// tables are missing, or an adopted job whose schedule or executor this system refuses. Shown in
// the API; cleared when the job is activated again.
export default /* sql */ `
alter table cron_job add column if not exists inactive_reason text;
`;
