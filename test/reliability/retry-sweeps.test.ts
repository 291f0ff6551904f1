import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database';
import { insertJobs } from '../helpers/jobs';
import { figures, runFigures, seconds, sweepWorkersForFile, YEARLY } from './helpers';

// Retries under concurrent sweeps: 8 processes sweep the same 2,000 jobs at once, round after
// round, with the sweeps' clock moved forward 2 s a round. Half the jobs fail: a quarter twice then
// succeed, a quarter every time, all with 3 attempts and a fixed 1 s backoff (so every retry is due
// by the next round).
const PROCESSES = 8;
const JOBS = 2_000;
const FLAKY = 500;
const FAILING = 500;
const ATTEMPTS = 3;
const MAX_ROUNDS = 10;

const { sql, url } = await createTestDatabase();
const workers = sweepWorkersForFile(url, PROCESSES, {
  concurrency: 8,
  claimBatchSize: 100,
  pool: 3,
});

describe('retries under concurrent sweeps', () => {
  it(`${PROCESSES} processes, ${JOBS} jobs, half failing with retries: each (slot, attempt) runs once, every retry in the first round after it is due`, async () => {
    const slot = new Date('2026-11-28T10:00:00Z');
    const retry = { max_attempts: ATTEMPTS, backoff: 'fixed' as const, initial_delay_seconds: 1 };
    const flaky = await insertJobs(sql, FLAKY, {
      name: 'flaky',
      schedule: YEARLY,
      function_name: 'flaky',
      metadata: { succeed_on_attempt: ATTEMPTS },
      next_run: slot,
      retry,
    });
    const failing = await insertJobs(sql, FAILING, {
      name: 'failing',
      schedule: YEARLY,
      function_name: 'fail',
      next_run: slot,
      retry,
    });
    await insertJobs(sql, JOBS - FLAKY - FAILING, {
      name: 'ok',
      schedule: YEARLY,
      next_run: slot,
      retry,
    });

    const started = performance.now();
    let late = 0;
    let rounds = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const at = new Date(slot.getTime() + 1_000 + round * 2_000);
      const replies = await Promise.all(
        workers.map((worker) => worker.sweep({ at: at.toISOString() })),
      );
      expect(replies.filter((reply) => !reply.ok)).toEqual([]);
      rounds += 1;
      // On time: no retry that was due when this round's sweeps ran is still waiting.
      const [waiting] = await sql<{ due: number; pending: number }[]>`
        select count(*) filter (where retry_at <= ${at})::int as due,
          count(retry_at)::int as pending
        from cron_job`;
      late += waiting!.due;
      if (waiting!.pending === 0) break;
    }
    const elapsed = performance.now() - started;

    const counts = await runFigures(sql, new Date(slot.getTime() + 60_000));
    const attempts = async (ids: string[]) =>
      sql<{ attempts: string; n: number }[]>`
        select string_agg(attempt || ':' || trigger || ':' || status, ',' order by attempt) as attempts,
          count(*)::int as n
        from cron_job_run where job_id = any(${ids}::uuid[])
        group by job_id`;
    const flakyRuns = new Set((await attempts(flaky)).map((row) => row.attempts));
    const failingRuns = new Set((await attempts(failing)).map((row) => row.attempts));
    const [metadata] = await sql<{ wrong: number }[]>`
      select count(*)::int as wrong from cron_job
      where (metadata->>'execution_count')::int <> case function_name when 'noop' then 1 else ${ATTEMPTS} end
        or (metadata->>'consecutive_failures')::int <> case function_name when 'fail' then 1 else 0 end`;
    const expectedRuns = JOBS - FLAKY - FAILING + (FLAKY + FAILING) * ATTEMPTS;
    figures(
      `retry sweeps: ${PROCESSES} processes x ${JOBS} jobs (${FLAKY} fail twice, ${FAILING} always, ` +
        `${ATTEMPTS} attempts): runs ${counts.runs}/${expectedRuns} in ${rounds} rounds, ` +
        `duplicate (slot, attempt) ${counts.duplicates}, lost ${counts.lost}, retries late ${late}; ` +
        `${seconds(elapsed)}`,
    );
    expect(counts).toMatchObject({
      runs: expectedRuns,
      duplicates: 0,
      running: 0,
      lost: 0,
      skipped: 0,
      success: JOBS - FAILING,
      failed: FLAKY * (ATTEMPTS - 1) + FAILING * ATTEMPTS,
    });
    expect(late).toBe(0);
    expect([...flakyRuns]).toEqual(['1:schedule:error,2:retry:error,3:retry:success']);
    expect([...failingRuns]).toEqual(['1:schedule:error,2:retry:error,3:retry:error']);
    expect(metadata!.wrong).toBe(0);
  }, 180_000);
});
