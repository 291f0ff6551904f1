import { describe, expect, it } from 'vitest';
import { LOST_RUN_ERROR } from '../../lib/engine/run-state';
import { silentLog } from '../../lib/logger';
import { sweep } from '../../lib/engine/sweep';
import { createTestDatabase } from '../helpers/database';
import { insertJobs, testRegistry } from '../helpers/jobs';
import { figures, runFigures, seconds, sleep, startSweepWorker, waitFor, YEARLY } from './helpers';

// Scenario 2: a Lambda (or the local server) dies with SIGKILL in the middle of its jobs: no
// finally block runs, nothing is recorded. The lease is all that is left to recover from.
const SLOW = 20;
const QUICK = 10;
const LEASE_SECONDS = 2;
const RETRIED = 5;

const { sql, url } = await createTestDatabase();
const deps = { sql, registry: testRegistry, log: silentLog };

describe('crash mid-run', () => {
  it('declares the runs of a SIGKILLed sweep lost after their lease, and runs the jobs again at their next slot', async () => {
    const firstSlot = new Date(Date.now() - 600_000);
    const slow = await insertJobs(sql, SLOW, {
      name: 'slow',
      schedule: YEARLY,
      function_name: 'sleep',
      metadata: { ms: 10_000 },
      next_run: firstSlot,
    });
    const quick = await insertJobs(sql, QUICK, {
      name: 'quick',
      schedule: YEARLY,
      next_run: firstSlot,
    });

    const worker = startSweepWorker(url, { leaseSeconds: LEASE_SECONDS, concurrency: 40 }, 'once');
    await waitFor(
      'the worker to be running the slow jobs and to have recorded the quick ones',
      async () => {
        const counts = await runFigures(sql);
        return counts.running === SLOW && counts.success === QUICK;
      },
      30_000,
    );
    // Long enough for several heartbeats: the lease alone would have run out by now.
    await sleep(LEASE_SECONDS * 1000 + 500);
    expect((await runFigures(sql)).running).toBe(SLOW);
    worker.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // Within the lease nobody may call the runs lost: their process might only be slow.
    expect(await sweep(deps)).toMatchObject({ lost: 0, executed: 0, skipped: 0 });
    expect((await runFigures(sql)).running).toBe(SLOW);

    const [lease] = await sql<{ until: Date }[]>`
      select max(deadline) as until from cron_job_run where status = 'running'`;
    await sleep(Math.max(0, lease!.until.getTime() - Date.now()) + 100);
    const recovery = await sweep(deps);
    const lostAfter = Date.now() - killedAt;
    expect(recovery).toMatchObject({ lost: SLOW, executed: 0 });
    const afterRecovery = await runFigures(sql);
    expect(afterRecovery).toMatchObject({ running: 0, lost: SLOW, success: QUICK, duplicates: 0 });
    const lostRuns = await sql<{ error: string; finished: boolean }[]>`
      select error, finished_at is not null as finished from cron_job_run where status = 'lost'`;
    expect(lostRuns.every((run) => run.error === LOST_RUN_ERROR && run.finished)).toBe(true);
    const [beforeRerun] = await sql<{ execution_count: number; error_count: number }[]>`
      select sum((metadata->>'execution_count')::int)::int as execution_count,
        sum((metadata->>'error_count')::int)::int as error_count
      from cron_job where id in ${sql(slow)}`;
    expect(beforeRerun).toEqual({ execution_count: SLOW, error_count: SLOW });

    // The jobs' next slot comes round (this time the executor is quick).
    const secondSlot = new Date(firstSlot.getTime() + 300_000);
    await sql`update cron_job set next_run = ${secondSlot},
      metadata = case when function_name = 'sleep' then metadata || '{"ms": 50}' else metadata end`;
    const rerun = await sweep(deps, { concurrency: 10 });
    expect(rerun).toMatchObject({ executed: SLOW + QUICK, succeeded: SLOW + QUICK, lost: 0 });

    const final = await runFigures(sql);
    const perJob = await sql<{ id: string; statuses: string[] }[]>`
      select job_id as id, array_agg(status order by scheduled_for) as statuses
      from cron_job_run group by job_id`;
    const statuses = new Map(perJob.map((row) => [row.id, row.statuses.join(',')]));
    for (const id of slow) expect(statuses.get(id)).toBe('lost,success');
    for (const id of quick) expect(statuses.get(id)).toBe('success,success');
    const [after] = await sql<{ n: number }[]>`
      select count(*)::int as n from cron_job where id in ${sql(slow)}
        and metadata @> '{"execution_count": 2, "error_count": 1, "last_execution_status": "success"}'`;
    expect(after!.n).toBe(SLOW);
    expect(final).toMatchObject({ running: 0, duplicates: 0, due: 0 });
    figures(
      `crash mid-run: sweep process SIGKILLed with ${SLOW} runs in progress (lease ${LEASE_SECONDS} s): ` +
        `runs left running 0, declared lost ${recovery.lost} after ${seconds(lostAfter)} ` +
        `(none before the lease ran out), quick runs kept ${QUICK}/${QUICK}, ` +
        `jobs run again at next slot ${rerun.succeeded}/${SLOW + QUICK}, duplicate runs ${final.duplicates}`,
    );
  }, 60_000);

  it('retries the runs of a SIGKILLed sweep: lost after their lease (attempt 1), then each runs once as attempt 2 at its backoff time, before the next slot', async () => {
    const slot = new Date(Date.now() - 600_000);
    // Full jitter draws each retry's delay from [0, 1 h]; the next yearly slot is weeks away.
    const retry = { max_attempts: 3, backoff: 'fixed' as const, initial_delay_seconds: 3600 };
    const ids = await insertJobs(sql, RETRIED, {
      name: 'killed with retries',
      schedule: YEARLY,
      function_name: 'sleep',
      metadata: { ms: 60_000 },
      next_run: slot,
      retry,
    });
    const figuresOf = async () => {
      const [row] = await sql<
        { running: number; lost: number; success: number; duplicates: number }[]
      >`
        select count(*) filter (where status = 'running')::int as running,
          count(*) filter (where status = 'lost')::int as lost,
          count(*) filter (where status = 'success')::int as success,
          (select count(*)::int from (select from cron_job_run where job_id in ${sql(ids)}
            group by job_id, scheduled_for, attempt having count(*) > 1) d) as duplicates
        from cron_job_run where job_id in ${sql(ids)}`;
      return row!;
    };
    const jobsOf = () =>
      sql<
        {
          id: string;
          retry_at: Date | null;
          retry_for: Date | null;
          retry_attempt: number | null;
          next_run: Date;
        }[]
      >`
        select id, retry_at, retry_for, retry_attempt, next_run from cron_job
        where id in ${sql(ids)} order by retry_at, id`;

    const worker = startSweepWorker(
      url,
      { leaseSeconds: LEASE_SECONDS, concurrency: RETRIED },
      'once',
    );
    await waitFor(
      'the worker to be running the jobs',
      async () => (await figuresOf()).running === RETRIED,
      30_000,
    );
    worker.child.kill('SIGKILL');
    expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // The worker renewed each lease, for LEASE_SECONDS from its clock, before it died: after
    // this instant every lease has run out. The sweeps below move their clock, nobody sleeps.
    const leasesOver = new Date(Date.now() + LEASE_SECONDS * 1000 + 1);
    const [lease] = await sql<{ first: Date }[]>`
      select min(deadline) as first from cron_job_run where job_id in ${sql(ids)} and status = 'running'`;
    expect(await sweep(deps, { now: () => lease!.first })).toMatchObject({ lost: 0, executed: 0 });
    expect(await sweep(deps, { now: () => leasesOver })).toMatchObject({
      lost: RETRIED,
      executed: 0,
    });
    expect(await figuresOf()).toMatchObject({ running: 0, lost: RETRIED, success: 0 });

    const pending = await jobsOf();
    for (const job of pending) {
      expect(job).toMatchObject({ retry_for: slot, retry_attempt: 2 });
      expect(job.retry_at!.getTime()).toBeGreaterThanOrEqual(leasesOver.getTime());
      expect(job.retry_at!.getTime()).toBeLessThanOrEqual(leasesOver.getTime() + 3_600_000);
      expect(job.retry_at!.getTime()).toBeLessThan(job.next_run.getTime());
    }
    // The retries are quick.
    await sql`update cron_job set metadata = metadata || '{"ms": 20}' where id in ${sql(ids)}`;
    // Each retry runs at its backoff time, not a millisecond earlier, once among three
    // concurrent sweeps.
    const retryTimes = [...new Set(pending.map((job) => job.retry_at!.getTime()))];
    let retried = 0;
    for (const time of retryTimes) {
      const dueNow = pending.filter((job) => job.retry_at!.getTime() === time).length;
      expect(await sweep(deps, { now: () => new Date(time - 1) })).toMatchObject({ executed: 0 });
      const sweeps = await Promise.all(
        [1, 2, 3].map(() => sweep(deps, { now: () => new Date(time) })),
      );
      expect(sweeps.reduce((sum, summary) => sum + summary.succeeded, 0)).toBe(dueNow);
      retried += dueNow;
    }
    const muchLater = new Date(Math.max(...retryTimes) + 3_600_000);
    expect(await sweep(deps, { now: () => muchLater })).toMatchObject({ executed: 0, lost: 0 });

    const runs = await sql<{ job_id: string; runs: string; retry_started: Date }[]>`
      select job_id,
        string_agg(attempt || ':' || trigger || ':' || status || ':' ||
          (scheduled_for = ${slot}), ',' order by attempt) as runs,
        max(started_at) filter (where attempt = 2) as retry_started
      from cron_job_run where job_id in ${sql(ids)} group by job_id`;
    expect(runs).toHaveLength(RETRIED);
    const retryAt = new Map(pending.map((job) => [job.id, job.retry_at!.getTime()]));
    for (const run of runs) {
      expect(run.runs).toBe('1:schedule:lost:true,2:retry:success:true');
      expect(run.retry_started.getTime()).toBe(retryAt.get(run.job_id));
    }
    expect(await figuresOf()).toEqual({
      running: 0,
      lost: RETRIED,
      success: RETRIED,
      duplicates: 0,
    });
    const jobs = await jobsOf();
    expect(jobs.every((job) => job.retry_at === null && job.retry_attempt === null)).toBe(true);
    figures(
      `crash mid-run with retries: sweep process SIGKILLed with ${RETRIED} runs in progress ` +
        `(max_attempts ${retry.max_attempts}): declared lost ${RETRIED} once their lease ran out, ` +
        `retried as attempt 2 at their backoff time ${retried}/${RETRIED}, duplicate (slot, attempt) 0`,
    );
  }, 60_000);
});
