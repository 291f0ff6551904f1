import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connect } from '../../lib/db';
import { LOST_RUN_ERROR } from '../../lib/engine/run-state';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { createEngineTestDatabase } from '../helpers/engine';
import { gatedExecutor, insertJob, insertJobs, openGate, testExecutors } from '../helpers/jobs';
import { waitFor } from '../helpers/wait';

// What the README promises about the engine, each checked through sweep() and the tables only, so
// these tests hold whatever the engine's modules look like inside.

const { sql, url, deps } = await createEngineTestDatabase();

async function runsOf(jobId: string) {
  return sql<{ id: string; status: string; error: string | null }[]>`
    select id, status, error from cron_job_run where job_id = ${jobId}
    order by started_at, scheduled_for`;
}

async function jobRow(jobId: string) {
  const [row] = await sql<{ next_run: Date | null; metadata: Record<string, unknown> }[]>`
    select next_run, metadata from cron_job where id = ${jobId}`;
  return row!;
}

/** The earlier system's "failed jobs" monitoring query, verbatim. */
async function failedJobs() {
  return sql`
    SELECT name, metadata->>'last_error', metadata->>'error_count'
    FROM cron_job
    WHERE metadata->>'last_execution_status' = 'error'`.values();
}

describe('claims', () => {
  it('skips a due job whose row an open transaction holds, and finishes the rest without waiting', async () => {
    const [locked, ...free] = await insertJobs(sql, 3, { name: 'lockable' });
    const before = await jobRow(locked!);
    const holder = connect(url, { max: 1 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let taken!: () => void;
    const lockTaken = new Promise<void>((resolve) => (taken = resolve));
    const holding = holder.begin(async (tx) => {
      await tx`select id from cron_job where id = ${locked!} for update`;
      taken();
      await released;
    });
    let sweeping: Promise<unknown> | undefined;
    try {
      await lockTaken;
      let finished = false;
      sweeping = sweep(deps).finally(() => (finished = true));
      // A sweep that waits for the held row shows up as a backend waiting on a lock. Polled until
      // the sweep returns: no clock decides the outcome.
      let waitedForLock = false;
      while (!finished && !waitedForLock) {
        const waiting = await sql`
          select 1 from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
        waitedForLock = waiting.length > 0;
        if (!waitedForLock) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(waitedForLock, 'the sweep waited for the locked job row').toBe(false);
      expect(await sweeping).toMatchObject({ executed: 2, succeeded: 2 });
      for (const id of free)
        expect((await runsOf(id)).map((run) => run.status)).toEqual(['success']);
      expect(await runsOf(locked!)).toEqual([]);
      expect((await jobRow(locked!)).next_run).toEqual(before.next_run);
    } finally {
      release();
      await holding;
      // A sweep that did wait gets the row now; let it finish before the database goes.
      await sweeping?.catch(() => {});
      await holder.end();
    }
    // Once the row is free again, the next sweep runs it.
    expect(await sweep(deps)).toMatchObject({ executed: 1, succeeded: 1 });
    expect((await runsOf(locked!)).map((run) => run.status)).toEqual(['success']);
  });
});

describe('next slot', () => {
  it('after several missed periods is the first slot strictly after now, not the old next_run plus a period', async () => {
    const now = new Date('2026-11-28T10:07:30Z');
    const cases = [
      {
        schedule: 'every_5_minutes',
        timezone: 'UTC',
        missed: '2026-11-28T07:05:00Z',
        next: '2026-11-28T10:10:00Z',
      },
      {
        schedule: 'hourly',
        timezone: 'UTC',
        missed: '2026-11-25T04:00:00Z',
        next: '2026-11-28T11:00:00Z',
      },
      {
        schedule: 'daily',
        timezone: 'Europe/Berlin',
        missed: '2026-11-20T23:00:00Z',
        next: '2026-11-28T23:00:00Z',
      },
      {
        schedule: 'cron:*/10 * * * *',
        timezone: 'UTC',
        missed: '2026-11-28T08:20:00Z',
        next: '2026-11-28T10:10:00Z',
      },
    ];
    const ids: string[] = [];
    for (const [index, c] of cases.entries()) {
      ids.push(
        await insertJob(sql, {
          name: `missed ${index}`,
          schedule: c.schedule,
          timezone: c.timezone,
          next_run: new Date(c.missed),
        }),
      );
    }
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: cases.length });
    for (const [index, c] of cases.entries()) {
      expect((await jobRow(ids[index]!)).next_run, c.schedule).toEqual(new Date(c.next));
      // One run; the slots passed over before it are one missed run (catch_up latest).
      const runs = await runsOf(ids[index]!);
      expect(
        runs.filter((run) => run.status !== 'missed'),
        c.schedule,
      ).toHaveLength(1);
      expect(
        runs.filter((run) => run.status === 'missed'),
        c.schedule,
      ).toHaveLength(1);
    }
    // Nothing is due again until that slot.
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: 0 });
  });

  it('moves past now even when now is exactly on a slot', async () => {
    const now = new Date('2026-11-28T10:10:00Z');
    const id = await insertJob(sql, { next_run: new Date('2026-11-28T09:00:00Z') });
    await sweep(deps, { now: () => now });
    expect((await jobRow(id)).next_run).toEqual(new Date('2026-11-28T10:15:00Z'));
  });
});

describe('metadata after runs that did not succeed', () => {
  it('counts a timed-out run as an error: error_count, last_execution_status and last_error', async () => {
    const id = await insertJob(sql, { name: 'slow', function_name: 'hang', timeout_seconds: 1 });
    expect(await sweep(deps)).toMatchObject({ executed: 1, failed: 1, timed_out: 1 });
    expect((await runsOf(id)).map((run) => run.status)).toEqual(['timeout']);
    expect((await jobRow(id)).metadata).toMatchObject({
      execution_count: 1,
      error_count: 1,
      last_execution_status: 'error',
      last_error: 'timed out after 1 s',
      last_duration_ms: expect.any(Number),
    });
    // A later success keeps the count of errors and clears the last error.
    await sql`update cron_job set function_name = 'noop', next_run = now() - interval '1 minute'
      where id = ${id}`;
    expect(await sweep(deps)).toMatchObject({ executed: 1, succeeded: 1 });
    expect((await jobRow(id)).metadata).toMatchObject({
      execution_count: 2,
      error_count: 1,
      last_execution_status: 'success',
      last_error: null,
    });
  });

  it("reports timeout and lost runs as last_execution_status 'error', which the seed's failed-jobs query finds", async () => {
    await insertJob(sql, { name: 'Timing out', function_name: 'hang', timeout_seconds: 1 });
    const lost = await insertJob(sql, {
      name: 'Losing',
      next_run: new Date(Date.now() + 3_600_000),
    });
    await sql`insert into cron_job_run (job_id, scheduled_for, trigger, status, started_at, deadline)
      values (${lost}, now() - interval '10 minutes', 'schedule', 'running',
        now() - interval '9 minutes', now() - interval '1 second')`;
    expect(await sweep(deps)).toMatchObject({ lost: 1, executed: 1, timed_out: 1 });
    expect((await runsOf(lost)).map((run) => run.status)).toEqual(['lost']);
    expect((await jobRow(lost)).metadata).toMatchObject({
      execution_count: 1,
      error_count: 1,
      last_execution_status: 'error',
      last_error: LOST_RUN_ERROR,
    });
    expect((await failedJobs()).sort()).toEqual([
      ['Losing 1', LOST_RUN_ERROR, '1'],
      ['Timing out 1', 'timed out after 1 s', '1'],
    ]);
  });

  it('keeps a lost verdict when the run finishes after all, and counts it once', async () => {
    const registry = createRegistry([...testExecutors, gatedExecutor]);
    const gate = randomUUID();
    const id = await insertJob(sql, { function_name: 'gated', metadata: { gate } });
    // A long lease: the first sweep's heartbeat must not renew it while the test stands in for
    // a process that froze.
    const first = sweep({ ...deps, registry }, { leaseSeconds: 3_600 });
    const run = await waitFor('the run to start', async () => (await runsOf(id))[0]);
    expect(run.status).toBe('running');
    await sql`update cron_job_run set deadline = now() - interval '1 second' where id = ${run.id}`;
    expect(await sweep({ ...deps, registry })).toMatchObject({ lost: 1, executed: 0 });

    openGate(gate);
    await first;
    expect(await runsOf(id)).toMatchObject([{ id: run.id, status: 'lost', error: LOST_RUN_ERROR }]);
    expect((await jobRow(id)).metadata).toMatchObject({
      gate,
      execution_count: 1,
      error_count: 1,
      last_execution_status: 'error',
      last_error: LOST_RUN_ERROR,
    });
  });
});
