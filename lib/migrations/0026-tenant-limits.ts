// An optional cap per tenant on its runs in progress (`running`: executing, or dispatched and
// waiting for a worker). No row: no cap. Operators set it with SQL (README, "Per-tenant cap").
// The claim locks a capped tenant's row before counting that tenant's runs, so sweeps claiming at
// once take turns and never carry the tenant past its cap together (lib/engine/tenant-cap.ts).
export default /* sql */ `
create table cron_tenant_limit (
  tenant_id text primary key,
  max_concurrent_runs integer not null check (max_concurrent_runs between 1 and 100000),
  updated_at timestamptz not null default now()
);
`;
