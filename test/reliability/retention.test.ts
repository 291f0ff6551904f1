import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { pruneRunHistory, KEPT_RUNS_PER_JOB } from '../../lib/engine/retention';
import { sweep, type SweepSummary } from '../../lib/engine/sweep';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { insertJobs, testRegistry } from '../helpers/jobs';
import { figures, seconds } from './helpers';

// Scenario: a deployment that never pruned. 200,000 runs older than the retention, and sweeps of
// other jobs that keep running (inserting and updating runs in the same table) while retention
// works through them. The sweeps connect with lock_timeout = 100ms: any lock retention held for
// longer in their way would fail them.
const JOBS = 200;
const OLD_RUNS_PER_JOB = 1_000;
const LOCK_TIMEOUT_MS = 100;
const LOCK_TIMEOUT = `${LOCK_TIMEOUT_MS}ms`;

const { sql, url } = await createTestDatabase();
const strict = postgres(url, {
  max: 4,
  onnotice: () => {},
  connection: { application_name: 'crm-cron', lock_timeout: LOCK_TIMEOUT_MS },
});
afterAll(() => strict.end({ timeout: 5 }));

describe('run retention under load', () => {
  it('a sweep connection with lock_timeout 100ms fails when a lock is held in its way', async () => {
    expect(await strict`show lock_timeout`).toEqual([{ lock_timeout: LOCK_TIMEOUT }]);
    await insertJobs(strict, 1, { name: 'blocked' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = sql.begin(async (tx) => {
      await tx`lock table cron_job_run in exclusive mode`;
      locked();
      await released;
    });
    await isLocked;
    await expect(sweep({ sql: strict, registry: testRegistry, log: silentLog })).rejects.toThrow(
      /lock timeout/,
    );
    release();
    await holder;
    await sql`delete from cron_job`;
  });

  it(`prunes ${JOBS * OLD_RUNS_PER_JOB} old runs to the kept set while sweeps run, none blocked for ${LOCK_TIMEOUT}`, async () => {
    // Inactive: nothing but retention changes their runs, so their kept set is known up front.
    const jobs = await insertJobs(sql, JOBS, { name: 'history', is_active: false });
    // Yearly: each sweep below makes them due itself, and no slot of theirs comes due mid-sweep (a
    // sweep crossing a 5-minute boundary would otherwise run some of them twice).
    await insertJobs(sql, JOBS, {
      name: 'busy',
      function_name: 'noop',
      schedule: 'cron:0 0 1 1 *',
    });
    const fillStarted = performance.now();
    // Half the jobs ran recently too; the other half only long ago (their 10 newest are old).
    await sql`
      insert into cron_job_run (job_id, scheduled_for, trigger, status, started_at, finished_at, duration_ms, result)
      select j.id, at, 'schedule', 'success', at, at + interval '5 ms', 5, '{"ok":true}'
      from unnest(${sql.array(jobs)}::uuid[]) with ordinality as j(id, n)
      cross join lateral (
        select now() - interval '31 days' - g * interval '15 minutes' as at
        from generate_series(1, ${OLD_RUNS_PER_JOB}) as g
        union all
        select now() - g * interval '1 hour' from generate_series(1, 5) as g where j.n % 2 = 0
      ) runs`;
    await sql`analyze cron_job_run`;
    const fillMs = performance.now() - fillStarted;
    const historyJobs = () => sql`
      select id, name, schedule, is_active, metadata from cron_job where not is_active order by id`;
    const jobsBefore = await historyJobs();
    // The kept set, computed independently of the retention code: within 30 days, or among the
    // job's 10 newest.
    const expected = await sql<{ id: string }[]>`
      select id from (
        select id, started_at,
          row_number() over (partition by job_id order by started_at desc, id desc) as newest
        from cron_job_run) ranked
      where newest <= ${KEPT_RUNS_PER_JOB} or started_at >= now() - interval '30 days'
      order by id`;
    const [{ before } = { before: 0 }] = await sql<{ before: number }[]>`
      select count(*)::int as before from cron_job_run`;
    expect(before).toBe(JOBS * OLD_RUNS_PER_JOB + (JOBS / 2) * 5);
    expect(expected).toHaveLength((JOBS / 2) * (5 + 5) + (JOBS / 2) * 10);

    // Sweeps of the busy jobs, back to back until retention is done, each making them due again.
    let pruning = true;
    const sweeps: SweepSummary[] = [];
    const sweeping = (async () => {
      while (pruning || sweeps.length < 3) {
        await strict`update cron_job set next_run = now() - interval '1 second' where is_active`;
        sweeps.push(await sweep({ sql: strict, registry: testRegistry, log: silentLog }));
      }
    })();
    const pruneStarted = performance.now();
    const summary = await pruneRunHistory(sql, { retentionDays: 30 }).finally(() => {
      pruning = false;
    });
    const pruneMs = performance.now() - pruneStarted;
    await sweeping;

    // Every sweep ran every job, none failed (a lock wait over 100 ms would have thrown).
    for (const result of sweeps) {
      expect(result).toMatchObject({ executed: JOBS, succeeded: JOBS, failed: 0, lost: 0 });
    }
    expect(summary.deleted).toBe(before - expected.length);
    // What is left of the history jobs is exactly the kept set; the busy jobs' runs are all there.
    expect(await sql`select id from cron_job_run where job_id in ${sql(jobs)} order by id`).toEqual(
      expected,
    );
    expect(
      await sql`select count(*)::int as runs from cron_job_run where job_id not in ${sql(jobs)}`,
    ).toEqual([{ runs: sweeps.length * JOBS }]);
    expect(await historyJobs()).toEqual(jobsBefore);

    figures(
      `retention: ${before} runs (${JOBS * OLD_RUNS_PER_JOB} older than 30 days) filled in ${seconds(fillMs)}; ` +
        `${summary.deleted} removed in ${summary.batches} batches in ${seconds(pruneMs)}, ` +
        `longest batch ${summary.max_batch_ms} ms (database time); ${expected.length} kept; ` +
        `${sweeps.length} concurrent sweeps of ${JOBS} jobs with lock_timeout ${LOCK_TIMEOUT}: none failed`,
    );
  }, 300_000);
});
