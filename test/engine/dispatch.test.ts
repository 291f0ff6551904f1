import { beforeEach, describe, expect, it } from 'vitest';
import { DispatchPolicy } from '../../lib/engine/dispatch-policy';
import type { RunQueue } from '../../lib/engine/run-queue';
import { sweep } from '../../lib/engine/sweep';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { insertJobs, testRegistry } from '../helpers/jobs';

const { sql } = await createTestDatabase();
const deps = { sql, registry: testRegistry, log: silentLog };

/** A queue that keeps what it is sent (the workers are not the point here). */
function keepingQueue(): RunQueue & { sent: string[] } {
  const sent: string[] = [];
  return { sent, send: async (ids) => void sent.push(...ids) };
}

async function runStates() {
  return sql<{ status: string; queued: boolean; runs: number }[]>`
    select status, dispatched_at is not null as queued, count(*)::int as runs
    from cron_job_run group by 1, 2 order by 1, 2`;
}

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

describe('dispatch on overflow', () => {
  it('runs a small due set inline: nothing goes to the queue', async () => {
    await insertJobs(sql, 20, { function_name: 'noop', metadata: { last_duration_ms: 5 } });
    const queue = keepingQueue();
    const summary = await sweep(deps, {
      concurrency: 4,
      dispatch: { queue, when: 'overflow', inlineSeconds: 300 },
    });
    expect(summary).toMatchObject({ executed: 20, succeeded: 20, dispatched: 0 });
    expect(queue.sent).toEqual([]);
    expect(await runStates()).toEqual([{ status: 'success', queued: false, runs: 20 }]);
  });

  it('hands to the queue, not yet picked up, the claims that would not finish in the inline budget', async () => {
    // 2,000 jobs that last took 2 s each, 4 at a time: over 16 minutes of work for a 5-minute budget.
    await insertJobs(sql, 2_000, { function_name: 'noop', metadata: { last_duration_ms: 2_000 } });
    const queue = keepingQueue();
    const summary = await sweep(deps, {
      concurrency: 4,
      dispatch: { queue, when: 'overflow', inlineSeconds: 300 },
    });
    // The first claim (4 jobs, nothing known yet) runs here; the estimate then sends the rest.
    expect(summary.executed).toBeGreaterThan(0);
    expect(summary.executed).toBeLessThan(2_000);
    expect(summary.dispatched).toBe(2_000 - summary.executed);
    expect(new Set(queue.sent).size).toBe(summary.dispatched);
    expect(await runStates()).toEqual([
      { status: 'running', queued: true, runs: summary.dispatched },
      { status: 'success', queued: false, runs: summary.executed },
    ]);
    // Every queued run is one of the claimed slots, each job claimed once.
    const [claimed] = await sql<{ jobs: number; runs: number }[]>`
      select count(distinct job_id)::int as jobs, count(*)::int as runs from cron_job_run`;
    expect(claimed).toEqual({ jobs: 2_000, runs: 2_000 });
  });

  it('gives back the slots of runs it could not send: they are due again, nothing left running', async () => {
    await insertJobs(sql, 50, { function_name: 'noop' });
    const failing: RunQueue = { send: () => Promise.reject(new Error('queue unreachable')) };
    await expect(
      sweep(deps, { concurrency: 4, dispatch: { queue: failing, when: 'always' } }),
    ).rejects.toThrow('queue unreachable');
    expect(await runStates()).toEqual([]);
    const [due] = await sql<{ due: number }[]>`
      select count(*)::int as due from cron_job where next_run <= now()`;
    expect(due).toEqual({ due: 50 });
  });
});

describe('DispatchPolicy', () => {
  const queue = keepingQueue();
  const jobs = (count: number, lastMs: number | null) =>
    Array.from({ length: count }, () => ({ metadata: { last_duration_ms: lastMs } }));

  it('always: every claim goes to the queue', () => {
    expect(new DispatchPolicy({ queue, when: 'always' }, 4, 0).dispatches(0, 4, 900, 0)).toBe(true);
  });

  it('overflow: the first claim runs inline, then the estimate decides, and once over it stays over', () => {
    const policy = new DispatchPolicy({ queue, when: 'overflow', inlineSeconds: 60 }, 4, 0);
    expect(policy.dispatches(0, 4, 900, 0)).toBe(false);
    policy.observe(jobs(4, 1_000));
    // 16 waiting + 64 more at 1 s each over 4 lanes: 20 s, within 60 s.
    expect(policy.dispatches(16, 64, 900, 0)).toBe(false);
    // 200 + 1,000 at 1 s over 4 lanes: 300 s, over 60 s.
    expect(policy.dispatches(200, 1_000, 900, 0)).toBe(true);
    expect(policy.dispatches(0, 1, 900, 0)).toBe(true);
  });

  it('overflow: the budget is the smaller of the inline budget and the sweep time left, less time spent', () => {
    const policy = new DispatchPolicy({ queue, when: 'overflow', inlineSeconds: 60 }, 1, 0);
    policy.observe(jobs(1, 1_000));
    expect(policy.dispatches(0, 30, 900, 0)).toBe(false);
    const late = new DispatchPolicy({ queue, when: 'overflow', inlineSeconds: 60 }, 1, 0);
    late.observe(jobs(1, 1_000));
    // 45 s into the sweep, 30 s of work no longer fit the 15 s left of the inline budget.
    expect(late.dispatches(0, 30, 900, 45_000)).toBe(true);
    const short = new DispatchPolicy({ queue, when: 'overflow', inlineSeconds: 60 }, 1, 0);
    short.observe(jobs(1, 1_000));
    // Only 10 s left in the sweep.
    expect(short.dispatches(0, 30, 10, 0)).toBe(true);
  });

  it('overflow: a job that never ran counts as one second', () => {
    const policy = new DispatchPolicy({ queue, when: 'overflow', inlineSeconds: 10 }, 1, 0);
    policy.observe(jobs(1, null));
    expect(policy.dispatches(0, 9, 900, 0)).toBe(false);
    const over = new DispatchPolicy({ queue, when: 'overflow', inlineSeconds: 10 }, 1, 0);
    over.observe(jobs(1, null));
    expect(over.dispatches(0, 11, 900, 0)).toBe(true);
  });
});
