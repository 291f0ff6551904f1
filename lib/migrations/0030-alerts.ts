// Failure notifications (lib/alerts/): where alerts go, which events go where, and the outbox of
// deliveries, written by the statement that records a run's outcome (lib/engine/run-state.ts).
export default /* sql */ `
create table cron_alert_destination (
  id uuid primary key default gen_random_uuid(),
  -- null: a global destination (admins only)
  tenant_id text,
  name text not null check (length(name) between 1 and 200),
  kind text not null check (kind in ('webhook', 'slack', 'email')),
  -- webhook and slack: the URL; email: the address
  target text not null,
  -- webhook: the Standard Webhooks signing secret; write-only, never returned after creation
  secret text,
  status text not null default 'active' check (status in ('active', 'failing')),
  status_changed_at timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((kind = 'webhook') = (secret is not null))
);
create index cron_alert_destination_tenant on cron_alert_destination (tenant_id);

create table cron_alert_rule (
  id uuid primary key default gen_random_uuid(),
  -- null: a global rule (admins only), covering every tenant's jobs
  tenant_id text,
  destination_id uuid not null references cron_alert_destination (id) on delete cascade,
  -- null: every job of the rule's tenant (every job, for a global rule)
  job_id uuid references cron_job (id) on delete cascade,
  events text[] not null check (cardinality(events) > 0 and events <@ array[
    'run.failed', 'run.timed_out', 'run.lost', 'job.recovered', 'job.auto_paused', 'slot.missed']),
  after_consecutive_failures integer not null default 1
    check (after_consecutive_failures between 1 and 1000),
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index cron_alert_rule_destination on cron_alert_rule (destination_id);
create index cron_alert_rule_job on cron_alert_rule (job_id);

-- The outbox and the delivery log in one: a row per (event, destination), pending until
-- delivered or given up. Its id is the webhook-id (msg_<id>), the same on every retry. No foreign
-- key to jobs or runs: a delivery outlives both, like the audit trail.
create table cron_alert_delivery (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null,
  event_type text not null,
  destination_id uuid not null references cron_alert_destination (id) on delete cascade,
  rule_id uuid,
  tenant_id text,
  job_id uuid,
  run_id uuid,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  -- one entry per attempt: {at, status_code, latency_ms, error}
  attempt_log jsonb not null default '[]',
  -- pending: when the next attempt may start (also the lease of an attempt under way)
  next_attempt_at timestamptz not null,
  created_at timestamptz not null,
  delivered_at timestamptz,
  last_status_code integer,
  last_latency_ms integer,
  last_error text
);
create index cron_alert_delivery_due on cron_alert_delivery (next_attempt_at)
  where status = 'pending';
create index cron_alert_delivery_recent on cron_alert_delivery (created_at desc, id desc);
`;
