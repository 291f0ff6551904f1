// Missed slots, catch-up, spreading and active windows (issue #13 items 1, 2, 5 and 6).
// - A claim that finds several due slots of a job runs at most one of them (which one: `catch_up`)
//   and records the others as one `missed` run: `scheduled_for` is the first missed slot,
//   `missed_last` the last, `missed_count` how many. One row per gap, however long the gap, so an
//   outage of a week costs one row per job, not one per slot. The job counts them in `missed_count`.
// - `spread_seconds` delays each of a job's runs by a fixed offset within [0, spread_seconds),
//   derived from the job's id by cron_spread_offset_ms (the one place the formula lives). The
//   job's `next_run` is when it runs (slot + offset), so the sweep's due index is unchanged; its
//   runs keep the nominal slot in `scheduled_for` and their actual start in `started_at`.
// - `starts_at` / `ends_at` bound the slots a job has (both inclusive).
export default /* sql */ `
alter table cron_job
  add column catch_up text not null default 'latest' check (catch_up in ('skip', 'latest', 'all')),
  add column catch_up_window_seconds integer not null default 600
    check (catch_up_window_seconds between 60 and 2678400),
  add column spread_seconds integer not null default 0 check (spread_seconds between 0 and 3600),
  add column starts_at timestamptz,
  add column ends_at timestamptz,
  add column missed_count integer not null default 0 check (missed_count >= 0),
  add constraint cron_job_window_order check (starts_at is null or ends_at is null or starts_at < ends_at);

alter table cron_job_run
  add column missed_count integer check (missed_count >= 1),
  add column missed_last timestamptz,
  drop constraint cron_job_run_status_check,
  add constraint cron_job_run_status_check
    check (status in ('running', 'success', 'error', 'timeout', 'skipped', 'lost', 'missed')),
  add constraint cron_job_run_missed_gap check (
    (status = 'missed') = (missed_count is not null) and (missed_count is null) = (missed_last is null));

-- The offset of a job's runs within its slot: the first 32 bits of its id, scaled to
-- [0, spread_seconds) in milliseconds. Immutable, so the same job always gets the same offset.
create function cron_spread_offset_ms(job_id uuid, spread_seconds integer) returns integer
language sql immutable parallel safe strict as $$
  select (('x' || left(replace(job_id::text, '-', ''), 8))::bit(32)::bigint
    * spread_seconds::bigint * 1000 / 4294967296)::integer
$$;

-- Slots queued by POST /jobs/{id}/backfill, run by the sweep oldest first, one run of a job at a
-- time. A slot is queued once (primary key); claiming it deletes it in the transaction that
-- inserts its run.
create table cron_job_backfill (
  job_id uuid not null references cron_job (id) on delete cascade,
  scheduled_for timestamptz not null,
  queued_at timestamptz not null default now(),
  primary key (job_id, scheduled_for)
);
`;
