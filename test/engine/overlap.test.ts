import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { sweep, type SweepOptions } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { gatedExecutor, insertJob, openGate, testExecutors } from '../helpers/jobs';
import { waitFor } from '../helpers/wait';

// Overlap policies under concurrent sweeps with runs held open (gated executors) on moved
// clocks: how many runs of a job run at once, which slots wait, run or are skipped.

const { sql } = await createTestDatabase();
const deps = { sql, registry: createRegistry([...testExecutors, gatedExecutor]), log: silentLog };
const at = (iso: string) => new Date(iso);
// A long lease: these runs stay open across moved clocks that are hours apart from the real one.
const sweepAt = (iso: string, options: SweepOptions = {}) =>
  sweep(deps, { now: () => at(iso), leaseSeconds: 3600, ...options });
const sweepsAt = (iso: string, count = 3) =>
  Promise.all(Array.from({ length: count }, () => sweepAt(iso)));

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

async function overlapJob(overlap: string, maxConcurrentRuns = 1) {
  const gate = randomUUID();
  const id = await insertJob(sql, {
    schedule: 'every_minute',
    function_name: 'gated',
    metadata: { gate },
    next_run: at('2026-12-01T10:00:00Z'),
  });
  await sql`update cron_job set overlap = ${overlap}, max_concurrent_runs = ${maxConcurrentRuns}
    where id = ${id}`;
  return { id, gate };
}

async function runsOf(id: string) {
  return sql<{ scheduled_for: string; status: string; lane: number }[]>`
    select to_char(scheduled_for at time zone 'UTC', 'HH24:MI') as scheduled_for, status, lane
    from cron_job_run where job_id = ${id} order by scheduled_for, started_at`;
}

async function running(id: string) {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from cron_job_run where job_id = ${id} and status = 'running'`;
  return row!.n;
}

async function queuedFor(id: string) {
  const [row] = await sql<{ queued_for: Date | null }[]>`
    select queued_for from cron_job where id = ${id}`;
  return row!.queued_for;
}

describe('overlap queue_one', () => {
  it('keeps one waiting slot while a long run goes on, skips the rest, and runs the waiting slot exactly once when the run ends', async () => {
    const { id, gate } = await overlapJob('queue_one');
    const first = sweepAt('2026-12-01T10:00:10Z');
    await waitFor('the 10:00 run to start', async () => (await running(id)) === 1);

    // Three sweeps at once at 10:01 and three at 10:02 while the 10:00 run goes on.
    await sweepsAt('2026-12-01T10:01:10Z');
    expect(await queuedFor(id)).toEqual(at('2026-12-01T10:01:00Z'));
    await sweepsAt('2026-12-01T10:02:10Z');
    expect(await queuedFor(id)).toEqual(at('2026-12-01T10:01:00Z'));
    expect(await running(id)).toBe(1);
    expect(await runsOf(id)).toEqual([
      { scheduled_for: '10:00', status: 'running', lane: 0 },
      { scheduled_for: '10:02', status: 'skipped', lane: 0 },
    ]);

    // The waiting slot does not start while the run goes on, whatever the sweeps.
    await sweepsAt('2026-12-01T10:02:20Z');
    expect(await runsOf(id)).toHaveLength(2);

    openGate(gate);
    expect(await first).toMatchObject({ executed: 1, succeeded: 1 });
    // The run has ended: three sweeps at once run the waiting slot, once.
    const after = await sweepsAt('2026-12-01T10:02:30Z');
    expect(after.reduce((sum, summary) => sum + summary.succeeded, 0)).toBe(1);
    expect(await queuedFor(id)).toBeNull();
    expect(await runsOf(id)).toEqual([
      { scheduled_for: '10:00', status: 'success', lane: 0 },
      { scheduled_for: '10:01', status: 'success', lane: 0 },
      { scheduled_for: '10:02', status: 'skipped', lane: 0 },
    ]);

    // And the schedule goes on: 10:03 runs at its slot.
    await sweepsAt('2026-12-01T10:03:10Z');
    expect((await runsOf(id)).map((run) => run.status)).toEqual([
      'success',
      'success',
      'skipped',
      'success',
    ]);
    const [job] = await sql<{ execution_count: number; next_run: Date; missed_count: number }[]>`
      select (metadata->>'execution_count')::int as execution_count, next_run, missed_count
      from cron_job where id = ${id}`;
    // The skipped 10:02 passed without a run: the job counts it among its missed slots, once,
    // though three sweeps met it.
    expect(job).toEqual({
      execution_count: 3,
      next_run: at('2026-12-01T10:04:00Z'),
      missed_count: 1,
    });
  });

  it('runs the waiting slot before a slot due at the same time, which then waits in its place', async () => {
    const { id, gate } = await overlapJob('queue_one');
    const first = sweepAt('2026-12-01T10:00:10Z');
    await waitFor('the 10:00 run to start', async () => (await running(id)) === 1);
    await sweepsAt('2026-12-01T10:01:10Z');
    openGate(gate);
    await first;

    // When the next sweep comes, 10:02 is due too: 10:01 (older) runs, 10:02 waits, then runs.
    // (A concurrent sweep may run 10:02 as soon as 10:01 has ended, or the next one does.)
    await sweepsAt('2026-12-01T10:02:10Z');
    const slotsRun = (await runsOf(id)).map((run) => run.scheduled_for);
    expect(slotsRun.slice(0, 2)).toEqual(['10:00', '10:01']);
    if (slotsRun.length === 2) expect(await queuedFor(id)).toEqual(at('2026-12-01T10:02:00Z'));
    await sweepsAt('2026-12-01T10:02:20Z');
    expect(await queuedFor(id)).toBeNull();
    expect(await runsOf(id)).toEqual([
      { scheduled_for: '10:00', status: 'success', lane: 0 },
      { scheduled_for: '10:01', status: 'success', lane: 0 },
      { scheduled_for: '10:02', status: 'success', lane: 0 },
    ]);
  });
});

describe('overlap allow', () => {
  it('runs slots alongside each other up to max_concurrent_runs, each in its own lane, and skips beyond', async () => {
    const { id, gate } = await overlapJob('allow', 2);
    const first = sweepAt('2026-12-01T10:00:10Z');
    await waitFor('the 10:00 run to start', async () => (await running(id)) === 1);
    // Three sweeps at once at 10:01: one of them starts the 10:01 run beside the 10:00 one.
    const second = sweepsAt('2026-12-01T10:01:10Z');
    await waitFor('the 10:01 run to start', async () => (await running(id)) === 2);
    // 10:02 and 10:03 come due while both still run: skipped.
    await sweepsAt('2026-12-01T10:02:10Z');
    await sweepsAt('2026-12-01T10:03:10Z');
    expect(await running(id)).toBe(2);
    expect(await runsOf(id)).toEqual([
      { scheduled_for: '10:00', status: 'running', lane: 0 },
      { scheduled_for: '10:01', status: 'running', lane: 1 },
      { scheduled_for: '10:02', status: 'skipped', lane: 0 },
      { scheduled_for: '10:03', status: 'skipped', lane: 0 },
    ]);
    // The database itself refuses a third running run in a taken lane.
    await expect(sql`
      insert into cron_job_run (job_id, trigger, status, deadline, lane)
      values (${id}, 'manual', 'running', now(), 1)`).rejects.toThrow(/cron_job_run_one_running/);

    openGate(gate);
    await Promise.all([first, second]);
    expect((await runsOf(id)).map((run) => run.status)).toEqual([
      'success',
      'success',
      'skipped',
      'skipped',
    ]);

    // With lanes free again, the next slot takes lane 0.
    const later = sweepAt('2026-12-01T10:04:10Z');
    await later;
    expect((await runsOf(id)).at(-1)).toEqual({
      scheduled_for: '10:04',
      status: 'success',
      lane: 0,
    });
    // 10:02 and 10:03 passed without a run: two missed slots on the job.
    const [job] = await sql<{ missed_count: number }[]>`
      select missed_count from cron_job where id = ${id}`;
    expect(job!.missed_count).toBe(2);
  });

  it('with max_concurrent_runs 3 and three sweeps per slot, never has more than 3 runs at once', async () => {
    const { id, gate } = await overlapJob('allow', 3);
    const held: Promise<unknown>[] = [];
    const slots = ['10:00', '10:01', '10:02', '10:03', '10:04'];
    for (const [index, slot] of slots.entries()) {
      held.push(sweepsAt(`2026-12-01T${slot}:10Z`));
      await waitFor(`the ${slot} slot to be claimed`, async () => {
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from cron_job_run where job_id = ${id}`;
        return row!.n === index + 1;
      });
      expect(await running(id)).toBe(Math.min(index + 1, 3));
    }
    openGate(gate);
    await Promise.all(held);
    const runs = await runsOf(id);
    expect(runs.map((run) => run.status)).toEqual([
      'success',
      'success',
      'success',
      'skipped',
      'skipped',
    ]);
    expect(
      runs
        .slice(0, 3)
        .map((run) => run.lane)
        .sort(),
    ).toEqual([0, 1, 2]);
  });
});
