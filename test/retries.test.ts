import { describe, expect, it } from 'vitest';
import { retryDelayCapSeconds, defaultRetryPolicy } from '../lib/engine/retry-policy';
import { markLostRuns, insertClaimedRuns, LOST_RUN_ERROR } from '../lib/engine/run-state';
import { sweep } from '../lib/engine/sweep';
import { createEngineTestDatabase } from './helpers/engine';
import { insertJob } from './helpers/jobs';

// Retries, supersession and auto-pause on real PostgreSQL, with the sweep's clock moved by hand.
const { sql, deps } = await createEngineTestDatabase();

interface Run {
  scheduled_for: Date | null;
  attempt: number;
  trigger: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  error: string | null;
  result: unknown;
}

const runsOf = (jobId: string) => sql<Run[]>`
  select scheduled_for, attempt, trigger, status, started_at, finished_at, duration_ms, error, result
  from cron_job_run where job_id = ${jobId} order by scheduled_for, attempt`;

async function jobOf(jobId: string) {
  const [row] = await sql<
    {
      next_run: Date | null;
      is_active: boolean;
      metadata: Record<string, unknown>;
      retry_at: Date | null;
      retry_for: Date | null;
      retry_attempt: number | null;
      paused_at: Date | null;
      paused_by: string | null;
      paused_reason: string | null;
    }[]
  >`select next_run, is_active, metadata, retry_at, retry_for, retry_attempt, paused_at, paused_by,
      paused_reason from cron_job where id = ${jobId}`;
  return row!;
}

const at = (iso: string) => new Date(iso);
const plus = (date: Date, ms: number) => new Date(date.getTime() + ms);
const slot = at('2026-11-28T10:05:00Z');

/** Asserts the pending retry is due within its full-jitter window after `attemptRun` ended. */
function expectRetryWithinJitter(retryAt: Date, attemptRun: Run, cap: number) {
  const earliest = plus(attemptRun.started_at, attemptRun.duration_ms!);
  expect(retryAt.getTime()).toBeGreaterThanOrEqual(earliest.getTime());
  expect(retryAt.getTime()).toBeLessThanOrEqual(earliest.getTime() + cap * 1000);
}

describe('retries', () => {
  it('fails twice then succeeds with max_attempts 3: attempts 1 error, 2 error, 3 success, at their backoff delays', async () => {
    const policy = { ...defaultRetryPolicy, max_attempts: 3, initial_delay_seconds: 20 };
    const id = await insertJob(sql, {
      function_name: 'flaky',
      metadata: { succeed_on_attempt: 3 },
      next_run: slot,
      retry: policy,
    });
    const first = await sweep(deps, { now: () => at('2026-11-28T10:05:01Z') });
    expect(first).toMatchObject({ executed: 1, failed: 1 });

    let job = await jobOf(id);
    const [attempt1] = await runsOf(id);
    expect(job).toMatchObject({ retry_for: slot, retry_attempt: 2 });
    expectRetryWithinJitter(job.retry_at!, attempt1!, retryDelayCapSeconds(policy, 1));
    expect(job.next_run).toEqual(at('2026-11-28T10:10:00Z'));

    // Not a moment early.
    expect(await sweep(deps, { now: () => plus(job.retry_at!, -1) })).toMatchObject({
      executed: 0,
    });
    const retry1At = job.retry_at!;
    expect(await sweep(deps, { now: () => retry1At })).toMatchObject({ executed: 1, failed: 1 });

    job = await jobOf(id);
    const attempt2 = (await runsOf(id))[1]!;
    expect(attempt2.started_at).toEqual(retry1At);
    expect(job).toMatchObject({ retry_for: slot, retry_attempt: 3 });
    expectRetryWithinJitter(job.retry_at!, attempt2, retryDelayCapSeconds(policy, 2));
    const retry2At = job.retry_at!;
    expect(await sweep(deps, { now: () => retry2At })).toMatchObject({ executed: 1, succeeded: 1 });

    expect(await runsOf(id)).toMatchObject([
      {
        scheduled_for: slot,
        attempt: 1,
        trigger: 'schedule',
        status: 'error',
        error: 'attempt 1 failed',
      },
      { scheduled_for: slot, attempt: 2, trigger: 'retry', status: 'error', started_at: retry1At },
      {
        scheduled_for: slot,
        attempt: 3,
        trigger: 'retry',
        status: 'success',
        result: { attempt: 3 },
      },
    ]);
    job = await jobOf(id);
    expect(job).toMatchObject({ retry_at: null, retry_for: null, retry_attempt: null });
    expect(job.metadata).toMatchObject({
      execution_count: 3,
      error_count: 2,
      last_execution_status: 'success',
      last_error: null,
      consecutive_failures: 0,
    });
  });

  it('gives up after max_attempts 2 with two errors, and the next slot still runs', async () => {
    const id = await insertJob(sql, {
      function_name: 'flaky',
      next_run: slot,
      retry: { max_attempts: 2, initial_delay_seconds: 10 },
    });
    await sweep(deps, { now: () => at('2026-11-28T10:05:01Z') });
    const retryAt = (await jobOf(id)).retry_at!;
    await sweep(deps, { now: () => retryAt });
    expect(await jobOf(id)).toMatchObject({ retry_at: null, next_run: at('2026-11-28T10:10:00Z') });
    expect(await sweep(deps, { now: () => at('2026-11-28T10:09:59Z') })).toMatchObject({
      executed: 0,
    });

    await sweep(deps, { now: () => at('2026-11-28T10:10:01Z') });
    expect(await runsOf(id)).toMatchObject([
      { scheduled_for: slot, attempt: 1, status: 'error' },
      { scheduled_for: slot, attempt: 2, status: 'error' },
      {
        scheduled_for: at('2026-11-28T10:10:00Z'),
        attempt: 1,
        trigger: 'schedule',
        status: 'error',
      },
    ]);
    // The first slot failed for good; the second still has its retry to come.
    expect((await jobOf(id)).metadata).toMatchObject({ consecutive_failures: 1, error_count: 3 });
  });

  it('retries a lost run (its process died) as its next attempt', async () => {
    const id = await insertJob(sql, {
      function_name: 'flaky',
      metadata: { succeed_on_attempt: 2 },
      next_run: slot,
      retry: { max_attempts: 2, initial_delay_seconds: 5 },
    });
    // The claim of a process that then died: running, lease until 10:06:01, never finished.
    await sql.begin((tx) =>
      insertClaimedRuns(
        tx,
        [
          {
            job_id: id,
            scheduled_for: slot,
            attempt: 1,
            trigger: 'schedule',
            next_run: at('2026-11-28T10:10:00Z'),
            queued_for: null,
            lane: 0,
            triggered_by: null,
            status: 'running',
            superseded: null,
            consecutive_failures: null,
            pause_reason: null,
          },
        ],
        { now: at('2026-11-28T10:05:01Z'), deadline: at('2026-11-28T10:06:01Z') },
      ),
    );
    const lostAt = at('2026-11-28T10:07:00Z');
    expect(await markLostRuns(sql, lostAt)).toHaveLength(1);
    const job = await jobOf(id);
    expect(job).toMatchObject({ retry_for: slot, retry_attempt: 2 });
    expect(job.retry_at!.getTime() - lostAt.getTime()).toBeGreaterThanOrEqual(0);
    expect(job.retry_at!.getTime() - lostAt.getTime()).toBeLessThanOrEqual(5_000);

    expect(await sweep(deps, { now: () => job.retry_at! })).toMatchObject({ succeeded: 1 });
    expect(await runsOf(id)).toMatchObject([
      { attempt: 1, status: 'lost', error: LOST_RUN_ERROR },
      { attempt: 2, trigger: 'retry', status: 'success', result: { attempt: 2 } },
    ]);
  });

  it('supersedes a retry still pending when the next slot comes due, and records it', async () => {
    const id = await insertJob(sql, {
      function_name: 'flaky',
      next_run: slot,
      retry: { max_attempts: 3, initial_delay_seconds: 3600, backoff: 'fixed' },
    });
    await sweep(deps, { now: () => at('2026-11-28T10:05:01Z') });
    const pending = await jobOf(id);
    // The jitter may make the retry due before 10:10; take the next slot before it in any case.
    const nextSlotDue = pending.retry_at! > at('2026-11-28T10:10:00Z');
    const now = nextSlotDue ? at('2026-11-28T10:10:01Z') : plus(pending.retry_at!, -1);
    if (!nextSlotDue) {
      await sql`update cron_job set next_run = ${plus(pending.retry_at!, -1)} where id = ${id}`;
    }
    const nextSlot = (await jobOf(id)).next_run!;
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: 1 });
    expect(await runsOf(id)).toEqual([
      expect.objectContaining({ scheduled_for: slot, attempt: 1, status: 'error' }),
      expect.objectContaining({
        scheduled_for: slot,
        attempt: 2,
        trigger: 'retry',
        status: 'skipped',
        error: `retry superseded by the slot at ${nextSlot.toISOString()}`,
      }),
      expect.objectContaining({ scheduled_for: nextSlot, attempt: 1, trigger: 'schedule' }),
    ]);
    // The new slot failed too and waits for its own retry; the superseded one is gone.
    expect(await jobOf(id)).toMatchObject({ retry_for: nextSlot, retry_attempt: 2 });
    // The superseded slot and the new slot's first failure: one slot counted as failed so far.
    expect((await jobOf(id)).metadata).toMatchObject({ consecutive_failures: 1 });
  });
});

describe('auto-pause', () => {
  it('pauses a job after pause_after_failures failed slots, with the last error and actor engine; it then never runs', async () => {
    const id = await insertJob(sql, {
      function_name: 'fail',
      next_run: slot,
      pause_after_failures: 2,
    });
    await sweep(deps, { now: () => at('2026-11-28T10:05:01Z') });
    expect(await jobOf(id)).toMatchObject({ is_active: true, paused_at: null });
    await sweep(deps, { now: () => at('2026-11-28T10:10:01Z') });
    const job = await jobOf(id);
    expect(job).toMatchObject({
      is_active: false,
      next_run: null,
      paused_by: 'engine',
      paused_at: expect.any(Date),
      paused_reason: '2 consecutive failed slots; last error: boom',
    });
    expect(job.metadata).toMatchObject({ consecutive_failures: 2 });
    expect(await sweep(deps, { now: () => at('2026-11-29T10:00:00Z') })).toMatchObject({
      executed: 0,
    });
    expect(await runsOf(id)).toHaveLength(2);
  });

  it('counts slots, not attempts, and a retry that succeeds resets the count', async () => {
    const id = await insertJob(sql, {
      function_name: 'flaky',
      metadata: { succeed_on_attempt: 3 },
      next_run: slot,
      retry: { max_attempts: 3, initial_delay_seconds: 1 },
      pause_after_failures: 2,
    });
    await sweep(deps, { now: () => at('2026-11-28T10:05:01Z') });
    for (let attempt = 2; attempt <= 3; attempt += 1) {
      const { retry_at } = await jobOf(id);
      await sweep(deps, { now: () => retry_at! });
    }
    const job = await jobOf(id);
    expect(job).toMatchObject({ is_active: true, paused_at: null });
    expect(job.metadata).toMatchObject({ consecutive_failures: 0, error_count: 2 });
  });
});
