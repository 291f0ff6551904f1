import { describe, expect, it } from 'vitest';
import { sweep } from '../../lib/engine/sweep';
import { createEngineTestDatabase } from '../helpers/engine';
import { insertJobs } from '../helpers/jobs';
import { figures, runFigures, seconds, YEARLY } from './helpers';

// Scenario 4: executors that never settle (a lost socket, a forgotten promise) must cost their
// timeout and nothing more: the sweep ends, records timeouts and runs everything else.
const HANGING = 5;
const QUICK = 45;
const TIMEOUT_SECONDS = 2;
const MARGIN_MS = 1_000;

const { sql, deps } = await createEngineTestDatabase();

async function insertMix() {
  const slot = new Date(Date.now() - 60_000);
  const hanging = await insertJobs(sql, HANGING, {
    name: 'hang',
    schedule: YEARLY,
    function_name: 'hang',
    timeout_seconds: TIMEOUT_SECONDS,
    next_run: slot,
  });
  const quick = await insertJobs(sql, QUICK, { name: 'quick', schedule: YEARLY, next_run: slot });
  return { hanging, quick };
}

async function outcomes() {
  return sql<{ status: string; n: number; max_ms: number }[]>`
    select status, count(*)::int as n, max(duration_ms)::int as max_ms
    from cron_job_run group by status order by status`;
}

describe('slow and hanging executors', () => {
  it(`${HANGING} hanging jobs of ${HANGING + QUICK}, concurrency 10: the sweep ends after one timeout plus a small margin`, async () => {
    const { hanging } = await insertMix();
    const started = performance.now();
    const summary = await sweep(deps, { concurrency: 10 });
    const elapsed = performance.now() - started;
    expect(summary).toMatchObject({
      executed: HANGING + QUICK,
      succeeded: QUICK,
      failed: HANGING,
      timed_out: HANGING,
    });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_SECONDS * 1000 - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_SECONDS * 1000 + MARGIN_MS);
    const rows = await outcomes();
    expect(rows.map(({ status, n }) => ({ status, n }))).toEqual([
      { status: 'success', n: QUICK },
      { status: 'timeout', n: HANGING },
    ]);
    const [timeouts] = await sql<{ n: number }[]>`
      select count(*)::int as n from cron_job_run
      where status = 'timeout' and error = ${`timed out after ${TIMEOUT_SECONDS} s`}
        and job_id in ${sql(hanging)}`;
    expect(timeouts!.n).toBe(HANGING);
    const counts = await runFigures(sql);
    expect(counts).toMatchObject({ running: 0, duplicates: 0, due: 0, lost: 0 });
    figures(
      `hanging executors: ${HANGING + QUICK} due jobs, ${HANGING} never settle (timeout ${TIMEOUT_SECONDS} s), ` +
        `concurrency 10: sweep took ${seconds(elapsed)}, timeouts ${summary.timed_out}, ` +
        `successes ${summary.succeeded}, runs left running ${counts.running}, duplicate runs ${counts.duplicates}`,
    );
  }, 20_000);

  it('with fewer slots than hanging jobs, each slot is held for a whole timeout', async () => {
    await insertMix();
    const started = performance.now();
    const summary = await sweep(deps, { concurrency: 4 });
    const elapsed = performance.now() - started;
    expect(summary).toMatchObject({ executed: HANGING + QUICK, timed_out: HANGING });
    // Five hanging jobs on four slots: one slot waits out two timeouts in a row.
    expect(elapsed).toBeGreaterThanOrEqual(2 * TIMEOUT_SECONDS * 1000 - 50);
    expect(elapsed).toBeLessThan(2 * TIMEOUT_SECONDS * 1000 + MARGIN_MS);
    figures(
      `hanging executors: same jobs, concurrency 4: sweep took ${seconds(elapsed)} ` +
        `(ceil(${HANGING}/4) x ${TIMEOUT_SECONDS} s), timeouts ${summary.timed_out}, successes ${summary.succeeded}`,
    );
  }, 20_000);
});
