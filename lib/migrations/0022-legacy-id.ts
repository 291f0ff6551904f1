// The id a job had in the earlier Express system when that system numbered its jobs (serial ids):
// adoption gives such jobs uuids and keeps the old number here, so old references can be traced.
export default /* sql */ `
alter table cron_job add column legacy_id text;
`;
