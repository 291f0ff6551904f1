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
});
