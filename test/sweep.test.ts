import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { connect } from '../lib/db';
import { LOST_RUN_ERROR } from '../lib/engine/run-state';
import { sweep } from '../lib/engine/sweep';
import { createEngineTestDatabase } from './helpers/engine';
import { createRegistry } from '../lib/executors/registry';
import { defineExecutor } from '../lib/executors/types';
import { insertJob, insertJobs } from './helpers/jobs';

const { sql, url, deps } = await createEngineTestDatabase();

async function runsOf(jobId: string) {
  return sql<
    { status: string; scheduled_for: Date | null; error: string | null; result: unknown }[]
  >`
    select status, scheduled_for, error, result from cron_job_run where job_id = ${jobId}
    order by started_at, scheduled_for`;
}

async function job(jobId: string) {
  const [row] = await sql<
    {
      next_run: Date | null;
      last_run: Date | null;
      is_active: boolean;
      metadata: Record<string, unknown>;
    }[]
  >`select next_run, last_run, is_active, metadata from cron_job where id = ${jobId}`;
  return row!;
}

describe('sweep', () => {
  it('runs each due job once, records the run and moves next_run to the next slot', async () => {
    const now = new Date('2026-11-28T10:07:30Z');
    const id = await insertJob(sql, { name: 'job', next_run: new Date('2026-11-28T10:05:00Z') });
    const summary = await sweep(deps, { now: () => now });
    expect(summary).toMatchObject({ executed: 1, succeeded: 1, failed: 0, skipped: 0 });
    expect(summary.results).toEqual([
      {
        job_id: id,
        name: 'job 1',
        status: 'success',
        duration_ms: expect.any(Number),
        result: { ok: true },
      },
    ]);
    const runs = await runsOf(id);
    expect(runs).toEqual([
      {
        status: 'success',
        scheduled_for: new Date('2026-11-28T10:05:00Z'),
        error: null,
        result: { ok: true },
      },
    ]);
    const after = await job(id);
    expect(after.next_run).toEqual(new Date('2026-11-28T10:10:00Z'));
    expect(after.last_run).toEqual(now);
    expect(after.metadata).toMatchObject({
      execution_count: 1,
      error_count: 0,
      last_execution_status: 'success',
      last_error: null,
    });
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: 0 });
  });

  it('leaves inactive and not-yet-due jobs alone', async () => {
    const inactive = await insertJob(sql, { is_active: false });
    const future = await insertJob(sql, { next_run: new Date(Date.now() + 60_000) });
    expect(await sweep(deps)).toMatchObject({ executed: 0, skipped: 0 });
    expect(await runsOf(inactive)).toEqual([]);
    expect(await runsOf(future)).toEqual([]);
  });

  it('gives every one of 500 due jobs exactly one run when 4 sweeps start at once', async () => {
    const ids = await insertJobs(sql, 500);
    const clients = Array.from({ length: 4 }, () => connect(url, { max: 3 }));
    try {
      const summaries = await Promise.all(
        clients.map((client) =>
          sweep({ ...deps, sql: client }, { claimBatchSize: 50, concurrency: 4 }),
        ),
      );
      expect(summaries.reduce((total, s) => total + s.executed, 0)).toBe(500);
      expect(summaries.filter((s) => s.executed > 0).length).toBeGreaterThan(1);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
    const [counts] = await sql<{ runs: number; jobs: number; due: number; bad: number }[]>`
      select (select count(*)::int from cron_job_run where status = 'success') as runs,
        (select count(distinct job_id)::int from cron_job_run) as jobs,
        (select count(*)::int from cron_job where next_run <= now()) as due,
        (select count(*)::int from cron_job where (metadata->>'execution_count')::int <> 1) as bad`;
    expect(counts).toEqual({ runs: 500, jobs: ids.length, due: 0, bad: 0 });
  });

  it('records failing, throwing and hanging executors without stopping the good ones', async () => {
    const good = await insertJobs(sql, 3, { name: 'good' });
    const failing = await insertJob(sql, { name: 'failing', function_name: 'fail' });
    const throwing = await insertJob(sql, { name: 'throwing', function_name: 'throwString' });
    const hanging = await insertJob(sql, {
      name: 'hanging',
      function_name: 'hang',
      timeout_seconds: 1,
    });
    const unknown = await insertJob(sql, { name: 'unknown', function_name: 'nope' });
    const summary = await sweep(deps, { concurrency: 2 });
    expect(summary).toMatchObject({ executed: 7, succeeded: 3, failed: 4, timed_out: 1 });
    for (const id of good) expect((await runsOf(id))[0]?.status).toBe('success');
    expect(await runsOf(failing)).toMatchObject([{ status: 'error', error: 'boom' }]);
    expect(await runsOf(throwing)).toMatchObject([
      { status: 'error', error: 'non-Error thrown: plain string' },
    ]);
    expect(await runsOf(hanging)).toMatchObject([
      { status: 'timeout', error: 'timed out after 1 s' },
    ]);
    expect(await runsOf(unknown)).toMatchObject([
      { status: 'error', error: 'unknown executor "nope"' },
    ]);
    expect((await job(failing)).metadata).toMatchObject({
      execution_count: 1,
      error_count: 1,
      last_execution_status: 'error',
      last_error: 'boom',
    });
  });

  it('records a slot as skipped while the previous run of the job is still in progress', async () => {
    const id = await insertJob(sql);
    await sql`insert into cron_job_run (job_id, scheduled_for, trigger, status, deadline)
      values (${id}, now() - interval '10 minutes', 'schedule', 'running', now() + interval '1 hour')`;
    const summary = await sweep(deps);
    expect(summary).toMatchObject({ executed: 0, skipped: 1 });
    expect(summary.results).toMatchObject([{ job_id: id, status: 'skipped' }]);
    expect((await runsOf(id)).map((run) => run.status)).toEqual(['running', 'skipped']);
    expect((await job(id)).next_run!.getTime()).toBeGreaterThan(Date.now());
  });

  it('declares a run lost once its lease has expired, and runs the job at its next slot', async () => {
    const id = await insertJob(sql);
    await sql`insert into cron_job_run (job_id, scheduled_for, trigger, status, started_at, deadline)
      values (${id}, now() - interval '10 minutes', 'schedule', 'running',
        now() - interval '9 minutes', now() - interval '1 second')`;
    const summary = await sweep(deps);
    expect(summary).toMatchObject({ lost: 1, executed: 1, succeeded: 1, skipped: 0 });
    expect(await runsOf(id)).toMatchObject([
      { status: 'lost', error: LOST_RUN_ERROR },
      { status: 'success' },
    ]);
    expect((await job(id)).metadata).toMatchObject({ execution_count: 2, error_count: 1 });
    const [running] =
      await sql`select count(*)::int as n from cron_job_run where status = 'running'`;
    expect(running!.n).toBe(0);
  });

  it('starts no job that could not finish before the deadline; those stay due', async () => {
    const short = await insertJob(sql, { name: 'short', timeout_seconds: 1 });
    const long = await insertJob(sql, { name: 'long', timeout_seconds: 120 });
    const before = await job(long);
    const summary = await sweep(deps, { deadline: new Date(Date.now() + 30_000) });
    expect(summary).toMatchObject({ executed: 1, succeeded: 1 });
    expect(await runsOf(short)).toHaveLength(1);
    expect(await runsOf(long)).toEqual([]);
    expect((await job(long)).next_run).toEqual(before.next_run);
    expect(await sweep(deps)).toMatchObject({ executed: 1 });
    expect(await runsOf(long)).toHaveLength(1);
  });

  it('gives back claimed jobs it could not start in time', async () => {
    // The sweep's clock only moves when a job runs, so the outcome never depends on the wall clock.
    let clock = new Date('2026-11-28T10:07:30Z');
    const slot = new Date('2026-11-28T10:05:00Z');
    const registry = createRegistry([
      defineExecutor({
        name: 'takesTwoSeconds',
        description: 'moves the test clock on by two seconds',
        configSchema: z.object({}),
        run: async () => {
          clock = new Date(clock.getTime() + 2_000);
          return { ok: true };
        },
      }),
    ]);
    const ids = await insertJobs(sql, 3, {
      function_name: 'takesTwoSeconds',
      timeout_seconds: 2,
      next_run: slot,
    });
    // 5.5 s left, 2 s kept back for recording: room for one 2-second job, not for a second.
    const summary = await sweep(
      { ...deps, registry },
      { concurrency: 1, now: () => clock, deadline: new Date(clock.getTime() + 5_500) },
    );
    expect(summary).toMatchObject({ executed: 1, deferred: 2 });
    const jobs = await sql<{ id: string; next_run: Date }[]>`
      select id, next_run from cron_job where id in ${sql(ids)}`;
    expect(jobs.map((row) => row.next_run.toISOString()).sort()).toEqual([
      slot.toISOString(),
      slot.toISOString(),
      '2026-11-28T10:10:00.000Z',
    ]);
    const runs = await sql`select count(*)::int as n from cron_job_run where job_id in ${sql(ids)}`;
    expect(runs[0]!.n).toBe(1);
    // The next sweep runs the two given back.
    expect(await sweep({ ...deps, registry }, { now: () => clock })).toMatchObject({ executed: 2 });
  });

  it('advances next_run per schedule and time zone', async () => {
    const now = new Date('2026-11-28T10:07:30Z');
    const cases = [
      { schedule: 'hourly', timezone: 'UTC', next: '2026-11-28T11:00:00Z' },
      { schedule: 'daily', timezone: 'Europe/Berlin', next: '2026-11-28T23:00:00Z' },
      { schedule: 'daily', timezone: 'Asia/Kolkata', next: '2026-11-28T18:30:00Z' },
      { schedule: 'cron:30 2 * * *', timezone: 'America/New_York', next: '2026-11-29T07:30:00Z' },
      { schedule: 'every_15_minutes', timezone: 'UTC', next: '2026-11-28T10:15:00Z' },
      { schedule: 'weekly', timezone: 'UTC', next: '2026-11-29T00:00:00Z' },
      { schedule: 'monthly', timezone: 'UTC', next: '2026-12-01T00:00:00Z' },
    ];
    const ids = [];
    for (const [index, c] of cases.entries()) {
      ids.push(
        await insertJob(sql, {
          name: `tz ${index}`,
          schedule: c.schedule,
          timezone: c.timezone,
          next_run: new Date('2026-11-28T10:00:00Z'),
        }),
      );
    }
    await sweep(deps, { now: () => now });
    for (const [index, c] of cases.entries()) {
      expect((await job(ids[index]!)).next_run, c.schedule).toEqual(new Date(c.next));
    }
  });

  it('runs a one-off job once and then leaves it inactive with no next_run', async () => {
    const id = await insertJob(sql, {
      schedule: 'at:2026-11-28T09:00:00',
      next_run: new Date('2026-11-28T09:00:00Z'),
    });
    await sweep(deps, { now: () => new Date('2026-11-28T09:02:00Z') });
    expect(await job(id)).toMatchObject({ is_active: false, next_run: null });
    expect(await runsOf(id)).toMatchObject([{ status: 'success' }]);
  });

  it('records a job whose stored schedule no longer parses as failed and deactivates it', async () => {
    const id = await insertJob(sql, { schedule: 'every_7_minutes' });
    const summary = await sweep(deps);
    expect(summary).toMatchObject({ executed: 1, failed: 1 });
    const after = await job(id);
    expect(after).toMatchObject({ is_active: false, next_run: null });
    expect(after.metadata.last_error).toMatch(/every_7_minutes/);
  });

  it('keeps the earlier system’s monitoring SQL true after sweeps', async () => {
    const good = await insertJob(sql, { name: 'Good' });
    const bad = await insertJob(sql, { name: 'Bad', function_name: 'fail' });
    await sweep(deps);
    await sql`update cron_job set next_run = now() - interval '1 minute' where is_active`;
    await sweep(deps);
    const rows = await sql`
      SELECT
        name,
        is_active,
        last_run,
        next_run,
        metadata->>'execution_count' as executions,
        metadata->>'last_execution_status' as status,
        metadata->>'error_count' as errors
      FROM cron_job
      ORDER BY next_run`;
    expect(
      rows.map(({ name, executions, status, errors }) => ({ name, executions, status, errors })),
    ).toEqual(
      expect.arrayContaining([
        { name: 'Good 1', executions: '2', status: 'success', errors: '0' },
        { name: 'Bad 1', executions: '2', status: 'error', errors: '2' },
      ]),
    );
    const failed = await sql`
      SELECT name, metadata->>'last_error', metadata->>'error_count'
      FROM cron_job
      WHERE metadata->>'last_execution_status' = 'error'`.values();
    expect(failed).toEqual([['Bad 1', 'boom', '2']]);
    const active = await sql`
      SELECT name, last_run, metadata->>'last_execution_status'
      FROM cron_job
      WHERE is_active = true`.values();
    expect(active.map((row) => row[0]).sort()).toEqual(['Bad 1', 'Good 1']);
    expect(active.every((row) => row[1] instanceof Date)).toBe(true);
    expect(good).not.toBe(bad);
  });
});
