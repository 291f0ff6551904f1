import { beforeEach, describe, expect, it } from 'vitest';
import type { Sql } from '../../lib/db';
import { finishRuns, markLostRuns } from '../../lib/engine/run-state';
import { sweep } from '../../lib/engine/sweep';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { insertJob, testRegistry } from '../helpers/jobs';

// job.auto_paused is sent when the engine paused the job, and only then, however the outcome
// statement races with another writer of the job row: the statement waits for the row, then
// decides on the row as it is after the wait (PostgreSQL re-checks it), and its event must follow
// that decision, not the older snapshot the statement started with. Each race is staged with a
// second connection holding the job row in an open transaction; nothing waits on the clock.
const { sql } = await createTestDatabase();
const at = new Date('2026-11-29T10:00:00Z');

let jobId: string;
beforeEach(async () => {
  await sql`truncate cron_job, cron_alert_destination, cron_alert_delivery cascade`;
  jobId = await insertJob(sql, {
    function_name: 'fail',
    tenant_id: 'acme',
    next_run: new Date(at.getTime() + 300_000),
    pause_after_failures: 1,
  });
  await sql`update cron_job set overlap = 'allow', max_concurrent_runs = 2 where id = ${jobId}`;
  const [destination] = await sql<{ id: string }[]>`
    insert into cron_alert_destination (tenant_id, name, kind, target)
    values ('acme', 'on-call', 'email', 'oncall@example.com') returning id`;
  await sql`insert into cron_alert_rule (tenant_id, destination_id, events)
    values ('acme', ${destination!.id}, ${['run.failed', 'run.lost', 'job.auto_paused']})`;
});

/** A running run of the job in `lane`, its lease until `deadline`. */
async function running(lane: number, deadline = new Date(at.getTime() + 60_000)) {
  const [run] = await sql<{ id: string }[]>`
    insert into cron_job_run (job_id, scheduled_for, trigger, attempt, status, started_at,
      deadline, lane)
    values (${jobId}, ${new Date(at.getTime() - lane * 300_000)}, 'schedule', 1, 'running',
      ${at}, ${deadline}, ${lane})
    returning id`;
  return run!.id;
}

const failed = (runId: string) => ({
  run_id: runId,
  status: 'error' as const,
  finished_at: new Date(at.getTime() + 5_000),
  duration_ms: 5_000,
  result: null,
  error: 'boom',
});

/**
 * Runs `statement` while another transaction holds the job row after `hold` changed it, and
 * commits that transaction only once `statement` waits for the row.
 */
async function racing<T>(hold: (tx: Sql) => Promise<unknown>, statement: () => Promise<T>) {
  const other = await sql.reserve();
  try {
    await other`begin`;
    await hold(other as unknown as Sql);
    const pending = statement();
    await expect
      .poll(
        async () =>
          (
            await sql<{ waiting: number }[]>`
              select count(*)::int as waiting from pg_stat_activity
              where wait_event_type = 'Lock' and datname = current_database()`
          )[0]!.waiting,
        { timeout: 60_000, interval: 50 },
      )
      .toBe(1);
    await other`commit`;
    return await pending;
  } finally {
    other.release();
  }
}

const events = async () =>
  (
    await sql<{ event_type: string }[]>`
      select event_type from cron_alert_delivery order by event_type`
  ).map((row) => row.event_type);

const pausedBy = async () =>
  (
    await sql<{ paused_by: string | null }[]>`select paused_by from cron_job where id = ${jobId}`
  )[0]!.paused_by;

describe('job.auto_paused under concurrent writers', () => {
  it('no event when the job was paused by hand while the failing outcome waited for its row', async () => {
    const run = await running(0);
    await racing(
      (tx) => tx`update cron_job set is_active = false, next_run = null, paused_at = ${at},
        paused_by = 'alice', paused_reason = 'by hand' where id = ${jobId}`,
      () => finishRuns(sql, [failed(run)]),
    );
    expect(await pausedBy()).toBe('alice');
    expect(await events()).toEqual(['run.failed']);
  });

  it('one event when two failing runs of the job finish at once: only the statement that paused it reports it', async () => {
    const first = await running(0);
    const second = await running(1);
    await racing(
      (tx) => finishRuns(tx, [failed(first)]),
      () => finishRuns(sql, [failed(second)]),
    );
    expect(await pausedBy()).toBe('engine');
    expect(await events()).toEqual(['job.auto_paused', 'run.failed', 'run.failed']);
  });

  it('the same for a lost run: no event when the job was paused by hand meanwhile', async () => {
    await running(0, new Date(at.getTime() - 1_000));
    await racing(
      (tx) => tx`update cron_job set is_active = false, next_run = null, paused_at = ${at},
        paused_by = 'alice', paused_reason = 'by hand' where id = ${jobId}`,
      () => markLostRuns(sql, new Date(at.getTime() + 60_000)),
    );
    expect(await pausedBy()).toBe('alice');
    expect(await events()).toEqual(['run.lost']);
  });

  it('without a race, a failed slot reaching pause_after_failures pauses the job and says so once', async () => {
    await finishRuns(sql, [failed(await running(0))]);
    expect(await pausedBy()).toBe('engine');
    expect(await events()).toEqual(['job.auto_paused', 'run.failed']);
  });

  it('a superseded retry that pauses the job in the claim sends job.auto_paused once, with the superseded run', async () => {
    const t0 = new Date(at.getTime() - 3600_000);
    let clock = t0;
    const now = () => clock;
    const superseding = await insertJob(sql, {
      function_name: 'fail',
      tenant_id: 'acme',
      next_run: new Date(t0.getTime() - 1_000),
      pause_after_failures: 1,
      retry: { max_attempts: 2, initial_delay_seconds: 60 },
    });
    const sweepAt = async () => sweep({ sql, registry: testRegistry, log: silentLog }, { now });
    expect((await sweepAt()).failed).toBe(1);
    // The retry comes due after the next slot: the slot supersedes it, and that failed slot
    // reaches pause_after_failures.
    await sql`update cron_job set retry_at = next_run + interval '1 minute' where id = ${superseding}`;
    expect(await events()).toEqual([]);
    clock = new Date(t0.getTime() + 300_000);
    await sweepAt();

    const [job] = await sql<{ is_active: boolean; paused_by: string }[]>`
      select is_active, paused_by from cron_job where id = ${superseding}`;
    expect(job).toEqual({ is_active: false, paused_by: 'engine' });
    const rows = await sql<{ event_type: string; run_id: string; payload: unknown }[]>`
      select event_type, run_id, payload from cron_alert_delivery`;
    expect(rows.map((row) => row.event_type)).toEqual(['job.auto_paused']);
    const [skipped] = await sql<{ id: string }[]>`
      select id from cron_job_run where job_id = ${superseding} and status = 'skipped'`;
    expect(rows[0]).toMatchObject({
      run_id: skipped!.id,
      payload: { consecutive_failures: 1, run: { status: 'skipped', attempt: 2 } },
    });
    // Later sweeps of the paused job send nothing more.
    clock = new Date(t0.getTime() + 600_000);
    await sweepAt();
    expect(await events()).toEqual(['job.auto_paused']);
  });
});
