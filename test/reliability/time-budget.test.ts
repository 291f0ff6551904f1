import { describe, expect, it } from 'vitest';
import { sweep } from '../../lib/engine/sweep';
import { createEngineTestDatabase } from '../helpers/engine';
import { insertJobs } from '../helpers/jobs';
import { figures, runFigures, YEARLY } from './helpers';

// Scenario 5: a Lambda sweep has the invocation's remaining time and no more. A job started
// too late would be cut off mid-work by the platform; it must stay due for the next sweep.
const LONG = 10;
const SHORT = 20;

const { sql, deps } = await createEngineTestDatabase();

describe('time budget', () => {
  it('starts only jobs that can finish before the deadline; the others run in the next sweep', async () => {
    const slot = new Date(Date.now() - 60_000);
    const long = await insertJobs(sql, LONG, {
      name: 'long',
      schedule: YEARLY,
      timeout_seconds: 60,
      next_run: slot,
    });
    const short = await insertJobs(sql, SHORT, {
      name: 'short',
      schedule: YEARLY,
      function_name: 'sleep',
      metadata: { ms: 400 },
      timeout_seconds: 1,
      next_run: slot,
    });
    const deadline = new Date(Date.now() + 5_000);
    const first = await sweep(deps, { deadline, concurrency: 2 });
    const endedAt = Date.now();

    expect(endedAt).toBeLessThanOrEqual(deadline.getTime());
    expect(first.executed).toBeGreaterThan(0);
    expect(first.executed).toBeLessThan(SHORT);
    expect(first).toMatchObject({ succeeded: first.executed, timed_out: 0, failed: 0 });
    expect(first.deferred).toBe(SHORT - first.executed);
    // Every job that started could have used its whole timeout and still ended before the deadline.
    const started = await sql<{ job_id: string; latest_end: Date }[]>`
      select r.job_id, r.finished_at - r.duration_ms * interval '1 millisecond'
        + j.timeout_seconds * interval '1 second' as latest_end
      from cron_job_run r join cron_job j on j.id = r.job_id`;
    expect(started).toHaveLength(first.executed);
    for (const run of started) {
      expect(short).toContain(run.job_id);
      expect(run.latest_end.getTime()).toBeLessThanOrEqual(deadline.getTime());
    }
    // The rest, long and deferred short jobs alike, are still due at the slot they had.
    const [due] = await sql<{ long_due: number; short_due: number }[]>`
      select
        count(*) filter (where id in ${sql(long)} and next_run = ${slot})::int as long_due,
        count(*) filter (where id in ${sql(short)} and next_run = ${slot})::int as short_due
      from cron_job`;
    expect(due).toEqual({ long_due: LONG, short_due: SHORT - first.executed });

    const second = await sweep(deps, { concurrency: 10 });
    expect(second).toMatchObject({
      executed: LONG + SHORT - first.executed,
      succeeded: LONG + SHORT - first.executed,
      deferred: 0,
    });
    const counts = await runFigures(sql);
    const [perJob] = await sql<{ wrong: number }[]>`
      select count(*)::int as wrong from (
        select j.id from cron_job j left join cron_job_run r on r.job_id = j.id
        group by j.id having count(r.id) <> 1) x`;
    expect(perJob!.wrong).toBe(0);
    expect(counts).toMatchObject({
      runs: LONG + SHORT,
      success: LONG + SHORT,
      duplicates: 0,
      running: 0,
      due: 0,
    });
    figures(
      `time budget: deadline 5 s away, ${LONG} jobs with timeout 60 s and ${SHORT} with 1 s ` +
        `(400 ms each, concurrency 2): first sweep started ${first.executed}, deferred ${first.deferred}, ` +
        `started 60 s jobs 0, ended ${((deadline.getTime() - endedAt) / 1000).toFixed(1)} s before the deadline; ` +
        `next sweep ran the other ${second.executed}; runs lost 0, duplicate runs ${counts.duplicates}`,
    );
  }, 30_000);

  it('claims nothing when less than the recording margin is left', async () => {
    await insertJobs(sql, 5, { schedule: YEARLY, timeout_seconds: 1 });
    const summary = await sweep(deps, { deadline: new Date(Date.now() + 1_500) });
    expect(summary).toMatchObject({ executed: 0, deferred: 0 });
    expect(await runFigures(sql)).toMatchObject({ runs: 0, due: 5 });
  });
});
