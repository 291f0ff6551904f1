import { describe, expect, it } from 'vitest';
import { sweep } from '../../lib/engine/sweep';
import { createEngineTestDatabase } from '../helpers/engine';
import { insertJob } from '../helpers/jobs';

// Decisions the claim takes for a job's pending retry, seen through sweep() and the tables: a
// retry superseded by its job's next slot counts that slot as failed and may pause the job; an
// exact-time trigger fired for a retry runs that retry.

const { sql, deps } = await createEngineTestDatabase();
const at = (iso: string) => new Date(iso);
const slot = at('2026-12-01T10:00:00Z');
const nextSlot = at('2026-12-01T10:05:00Z');
const retryAt = at('2026-12-01T10:30:00Z');

/** A job whose slot 10:00 failed, with attempt 2 pending at 10:30 and its 10:05 slot due. */
async function withPendingRetry(fixture: {
  pause_after_failures: number | null;
  metadata: Record<string, unknown>;
}) {
  const id = await insertJob(sql, {
    function_name: 'noop',
    next_run: nextSlot,
    retry: { max_attempts: 3 },
    pause_after_failures: fixture.pause_after_failures,
  });
  await sql`update cron_job set metadata = ${sql.json(fixture.metadata as never)},
    retry_at = ${retryAt}, retry_for = ${slot}, retry_attempt = 2 where id = ${id}`;
  return id;
}

async function job(id: string) {
  const [row] = await sql<
    {
      is_active: boolean;
      next_run: Date | null;
      paused_by: string | null;
      paused_reason: string | null;
      retry_at: Date | null;
      consecutive_failures: number | null;
    }[]
  >`select is_active, next_run, paused_by, paused_reason, retry_at,
      (metadata->>'consecutive_failures')::int as consecutive_failures
    from cron_job where id = ${id}`;
  return row!;
}

async function runs(id: string) {
  return sql<{ scheduled_for: Date; attempt: number; trigger: string; status: string }[]>`
    select scheduled_for, attempt, trigger, status from cron_job_run
    where job_id = ${id} order by scheduled_for, attempt`;
}

describe('a retry superseded by the next slot', () => {
  const now = at('2026-12-01T10:05:01Z');

  it('pauses the job when that failed slot reaches pause_after_failures: nothing runs, the reason names the count and the last error', async () => {
    const id = await withPendingRetry({
      pause_after_failures: 2,
      metadata: { consecutive_failures: 1, last_error: 'boom' },
    });
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: 0 });
    expect(await job(id)).toEqual({
      is_active: false,
      next_run: null,
      paused_by: 'engine',
      paused_reason: '2 consecutive failed slots; last error: boom',
      retry_at: null,
      consecutive_failures: 2,
    });
    expect(await runs(id)).toEqual([
      { scheduled_for: slot, attempt: 2, trigger: 'retry', status: 'skipped' },
    ]);
  });

  it('counts from 0 for a job whose metadata has no count yet, and names an unknown last error', async () => {
    const id = await withPendingRetry({ pause_after_failures: 1, metadata: {} });
    await sweep(deps, { now: () => now });
    expect(await job(id)).toMatchObject({
      is_active: false,
      paused_reason: '1 consecutive failed slots; last error: unknown',
      consecutive_failures: 1,
    });
  });

  it('below pause_after_failures runs the slot: the job stays active', async () => {
    const id = await withPendingRetry({
      pause_after_failures: 3,
      metadata: { consecutive_failures: 1, last_error: 'boom' },
    });
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: 1, succeeded: 1 });
    expect(await job(id)).toMatchObject({
      is_active: true,
      paused_reason: null,
      next_run: at('2026-12-01T10:10:00Z'),
    });
    expect(await runs(id)).toEqual([
      { scheduled_for: slot, attempt: 2, trigger: 'retry', status: 'skipped' },
      { scheduled_for: nextSlot, attempt: 1, trigger: 'schedule', status: 'success' },
    ]);
  });
});

describe('an exact-time trigger fired for a pending retry', () => {
  it('runs that retry and no slot; its lag counts from the end of the backoff', async () => {
    const id = await withPendingRetry({ pause_after_failures: null, metadata: {} });
    await sql`update cron_job set next_run = ${at('2026-12-01T11:00:00Z')} where id = ${id}`;
    const late = at('2026-12-01T10:30:02Z');
    const summary = await sweep(deps, { now: () => late, only: { jobId: id, slot: retryAt } });
    expect(summary).toMatchObject({ executed: 1, succeeded: 1, max_lag_ms: 2_000 });
    expect(await runs(id)).toEqual([
      { scheduled_for: slot, attempt: 2, trigger: 'retry', status: 'success' },
    ]);
    expect(await job(id)).toMatchObject({ retry_at: null, next_run: at('2026-12-01T11:00:00Z') });
  });
});
