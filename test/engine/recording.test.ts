import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOST_RUN_ERROR } from '../../lib/engine/run-state';
import { sweep } from '../../lib/engine/sweep';
import { capturingLog } from '../helpers/log';
import { createEngineTestDatabase } from '../helpers/engine';
import { gatedRegistry, insertJob, openGate } from '../helpers/jobs';
import { waitFor } from '../helpers/wait';

// How a sweep records outcomes while other runs are still in flight: when they become visible,
// that leases never lapse, what happens to an outcome the database refuses or that comes too late.
// Checked through sweep() and the tables only.

const { sql, deps } = await createEngineTestDatabase(gatedRegistry);

async function statusOf(jobId: string): Promise<string | undefined> {
  const [run] = await sql<{ status: string }[]>`
    select status from cron_job_run where job_id = ${jobId}`;
  return run?.status;
}

/**
 * Makes the database refuse updates of `column` on runs whose new status is `status`, raising
 * `message`, until the returned function is called.
 */
async function refuseUpdates(
  column: 'status' | 'deadline',
  status: 'success' | 'running',
  message: string,
): Promise<() => Promise<void>> {
  // Test constants only: plpgsql bodies and trigger clauses take no parameters.
  await sql.unsafe(`
    create function refuse_update() returns trigger language plpgsql as $$
    begin
      raise exception '${message}';
    end $$;
    create trigger refuse_update before update of ${column} on cron_job_run
      for each row when (new.status = '${status}') execute function refuse_update()`);
  return async () => {
    await sql.unsafe('drop trigger refuse_update on cron_job_run; drop function refuse_update();');
  };
}

describe('recording outcomes', () => {
  it.each([
    [
      'as soon as a batch is full (flushSize 1), whatever the delay',
      { flushSize: 1, flushDelayMs: 3_600_000 },
    ],
    ['after flushDelayMs when the batch is not full', { flushSize: 1_000, flushDelayMs: 10 }],
  ])('writes a finished run while another is still in flight: %s', async (_what, options) => {
    const gate = randomUUID();
    const slow = await insertJob(sql, { name: 'slow', function_name: 'gated', metadata: { gate } });
    const quick = await insertJob(sql, { name: 'quick' });
    const sweeping = sweep(deps, { ...options, concurrency: 2 });
    try {
      await waitFor(
        'the quick run to be recorded',
        async () => (await statusOf(quick)) === 'success',
      );
      expect(await statusOf(slow)).toBe('running');
    } finally {
      openGate(gate);
    }
    expect(await sweeping).toMatchObject({ executed: 2, succeeded: 2 });
    expect(await statusOf(slow)).toBe('success');
  });

  it('never lets the lease of a run in progress lapse, so other sweeps do not declare it lost', async () => {
    const gate = randomUUID();
    const id = await insertJob(sql, { function_name: 'gated', metadata: { gate } });
    const leaseSeconds = 3;
    const sweeping = sweep(deps, { leaseSeconds });
    try {
      const first = await waitFor(
        'the run to start',
        async () =>
          (
            await sql<{ id: string; deadline: Date }[]>`
              select id, deadline from cron_job_run where job_id = ${id} and status = 'running'`
          )[0],
      );
      // Watched for a lease period after the first lease ends: the heartbeat renews it every
      // third of a lease, so it is always in the future.
      const watchUntil = new Date(first.deadline.getTime() + leaseSeconds * 1000);
      await waitFor('a lease period to pass', async () => {
        const [row] = await sql<{ lapsed: boolean; done: boolean }[]>`
          select deadline <= now() as lapsed, now() > ${watchUntil} as done
          from cron_job_run where id = ${first.id}`;
        expect(row!.lapsed, 'the lease lapsed').toBe(false);
        return row!.done;
      });
      expect(await sweep(deps)).toMatchObject({ lost: 0 });
    } finally {
      openGate(gate);
    }
    expect(await sweeping).toMatchObject({ succeeded: 1 });
    expect(await statusOf(id)).toBe('success');
  });

  it('fails the sweep, logged, when the database refuses an outcome', async () => {
    const id = await insertJob(sql, { name: 'refused' });
    const allow = await refuseUpdates('status', 'success', 'outcome refused');
    const { log, lines } = capturingLog();
    try {
      await expect(sweep({ ...deps, log })).rejects.toThrow('outcome refused');
    } finally {
      await allow();
    }
    expect(lines.filter((line) => line.level === 'error')).toEqual([
      expect.objectContaining({
        message: 'sweep failed',
        extra: expect.objectContaining({ error: 'outcome refused' }),
      }),
    ]);
    expect(await statusOf(id)).toBe('running');
  });

  it('warns when a lease cannot be renewed, and the run still finishes', async () => {
    const gate = randomUUID();
    const id = await insertJob(sql, { function_name: 'gated', metadata: { gate } });
    const allow = await refuseUpdates('deadline', 'running', 'lease refused');
    const { log, lines } = capturingLog();
    // The heartbeat renews every third of a lease: every second here.
    const sweeping = sweep({ ...deps, log }, { leaseSeconds: 3 });
    try {
      await waitFor('a renewal to fail', async () =>
        lines.some((line) => line.message === 'could not renew run leases'),
      );
    } finally {
      await allow();
      openGate(gate);
    }
    expect(await sweeping).toMatchObject({ succeeded: 1 });
    expect(lines).toContainEqual({
      level: 'warn',
      message: 'could not renew run leases',
      extra: { error: 'lease refused' },
    });
    expect(await statusOf(id)).toBe('success');
  });

  it('warns, naming the run, when an outcome comes after the run was declared lost', async () => {
    const gate = randomUUID();
    const id = await insertJob(sql, { function_name: 'gated', metadata: { gate } });
    const { log, lines } = capturingLog();
    const first = sweep({ ...deps, log }, { leaseSeconds: 3_600 });
    const run = await waitFor(
      'the run to start',
      async () =>
        (await sql<{ id: string }[]>`select id from cron_job_run where job_id = ${id}`)[0],
    );
    await sql`update cron_job_run set deadline = now() - interval '1 second' where id = ${run.id}`;
    expect(await sweep(deps)).toMatchObject({ lost: 1 });
    openGate(gate);
    await first;
    expect(lines.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: 'runs finished after being declared lost; their outcome was not recorded',
        extra: { run_ids: [run.id] },
      },
    ]);
  });

  it('warns about the late run only, when one batch holds a late and a written outcome', async () => {
    const gates = [randomUUID(), randomUUID()];
    const [late, onTime] = await Promise.all(
      gates.map((gate) => insertJob(sql, { function_name: 'gated', metadata: { gate } })),
    );
    const { log, lines } = capturingLog();
    // Both outcomes go in one batch: it is written when the second one arrives.
    const first = sweep(
      { ...deps, log },
      { leaseSeconds: 3_600, concurrency: 2, flushSize: 2, flushDelayMs: 3_600_000 },
    );
    const runs = await waitFor('both runs to start', async () => {
      const rows = await sql<{ id: string; job_id: string }[]>`
        select id, job_id from cron_job_run where job_id in ${sql([late!, onTime!])}`;
      return rows.length === 2 ? rows : undefined;
    });
    const lateRun = runs.find((run) => run.job_id === late)!;
    await sql`update cron_job_run set deadline = now() - interval '1 second'
      where id = ${lateRun.id}`;
    expect(await sweep(deps)).toMatchObject({ lost: 1 });
    for (const gate of gates) openGate(gate);
    expect(await first).toMatchObject({ executed: 2, succeeded: 2 });
    expect(lines.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: 'runs finished after being declared lost; their outcome was not recorded',
        extra: { run_ids: [lateRun.id] },
      },
    ]);
    expect(await statusOf(late!)).toBe('lost');
    expect(await statusOf(onTime!)).toBe('success');
  });

  it('warns about nothing when every outcome is written', async () => {
    await insertJob(sql, { name: 'fine' });
    const { log, lines } = capturingLog();
    expect(await sweep({ ...deps, log })).toMatchObject({ succeeded: 1 });
    expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
  });
});

describe('catch-up rounds', () => {
  it('writes each round before the next and carries on while no write failed: a whole backlog in one sweep', async () => {
    // catch_up 'all' runs one slot of a job per round; each round starts after the recorder has
    // written the previous round's outcomes (a flush that must not fail when nothing failed).
    const now = new Date('2026-11-28T10:07:30Z');
    const id = await insertJob(sql, { next_run: new Date('2026-11-28T09:50:00Z') });
    await sql`update cron_job set catch_up = 'all', catch_up_window_seconds = 3600
      where id = ${id}`;
    const { log, lines } = capturingLog();
    expect(await sweep({ ...deps, log }, { now: () => now })).toMatchObject({
      executed: 4,
      succeeded: 4,
    });
    const runs = await sql<{ scheduled_for: Date; status: string }[]>`
      select scheduled_for, status from cron_job_run where job_id = ${id} order by scheduled_for`;
    expect(runs.map((run) => [run.scheduled_for.toISOString(), run.status])).toEqual([
      ['2026-11-28T09:50:00.000Z', 'success'],
      ['2026-11-28T09:55:00.000Z', 'success'],
      ['2026-11-28T10:00:00.000Z', 'success'],
      ['2026-11-28T10:05:00.000Z', 'success'],
    ]);
    expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
  });
});

describe('what a sweep reports', () => {
  it('logs each lost run as a failed run, and one summary line with the counts', async () => {
    const lostJob = await insertJob(sql, {
      name: 'lost',
      next_run: new Date(Date.now() + 3_600_000),
    });
    const [run] = await sql<{ id: string }[]>`
      insert into cron_job_run (job_id, scheduled_for, trigger, status, started_at, deadline)
      values (${lostJob}, now() - interval '10 minutes', 'schedule', 'running',
        now() - interval '9 minutes', now() - interval '1 second')
      returning id`;
    await insertJob(sql, { name: 'fine' });
    const { log, lines } = capturingLog();
    const summary = await sweep({ ...deps, log });
    expect(lines).toContainEqual({
      level: 'error',
      message: 'run failed',
      extra: expect.objectContaining({
        job_id: lostJob,
        run_id: run!.id,
        status: 'lost',
        error: LOST_RUN_ERROR,
      }),
    });
    expect(lines).toContainEqual({
      level: 'info',
      message: 'sweep finished',
      extra: expect.objectContaining({ executed: 1, succeeded: 1, lost: 1, results: undefined }),
    });
    expect(summary).toMatchObject({ executed: 1, lost: 1 });
  });

  it('reports the largest delay from a slot to its start, and a duration within the call', async () => {
    const now = new Date('2026-11-28T10:07:30Z');
    await insertJob(sql, { next_run: new Date('2026-11-28T10:05:00Z') });
    await insertJob(sql, { next_run: new Date('2026-11-28T10:07:00Z') });
    const before = performance.now();
    const summary = await sweep(deps, { now: () => now });
    const elapsed = performance.now() - before;
    expect(summary.max_lag_ms).toBe(150_000);
    expect(summary.duration_ms).toBeGreaterThanOrEqual(0);
    expect(summary.duration_ms).toBeLessThanOrEqual(Math.ceil(elapsed));
  });
});
