import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database';
import { insertJobs } from '../helpers/jobs';
import { figures, runFigures, seconds, sweepWorkersForFile, YEARLY } from './helpers';

// Scenario 1: EventBridge delivers at least once and Lambda invocations overlap, so several
// sweeps over the same due jobs at the same moment, from separate processes, are the normal case.
const PROCESSES = 8;
const JOBS = 2_000;
const ROUNDS = 20;

const { sql, url } = await createTestDatabase();
const workers = sweepWorkersForFile(
  url,
  PROCESSES,
  { concurrency: 8, claimBatchSize: 100, pool: 3 },
  (ms) => figures(`duplicate sweeps: ${PROCESSES} worker processes started in ${seconds(ms)}`),
);

describe('duplicate and concurrent sweeps', () => {
  it(`${PROCESSES} processes sweeping ${JOBS} due jobs at once, ${ROUNDS} rounds: one run per job and slot`, async () => {
    const ids = await insertJobs(sql, JOBS, { name: 'dup', schedule: YEARLY });
    const started = performance.now();
    const base = Date.now() - 3_600_000;
    let busiestShare = 0;
    let processesWithWork = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      // A new past slot each round: (job_id, scheduled_for) is unique, and every job is due.
      const slot = new Date(base + round * 1000);
      await sql`update cron_job set next_run = ${slot}`;
      const replies = await Promise.all(workers.map((worker) => worker.sweep()));
      const errors = replies.filter((reply) => !reply.ok);
      expect(errors, JSON.stringify(errors)).toEqual([]);
      const executed = replies.map((reply) => (reply.ok ? reply.summary.executed : 0));
      expect(
        executed.reduce((a, b) => a + b, 0),
        `round ${round}: runs started over all processes`,
      ).toBe(JOBS);
      expect(replies.every((reply) => reply.ok && reply.summary.skipped === 0)).toBe(true);
      busiestShare = Math.max(busiestShare, Math.max(...executed) / JOBS);
      processesWithWork += executed.filter((n) => n > 0).length;
      const [slotRuns] = await sql<{ runs: number; jobs: number }[]>`
        select count(*)::int as runs, count(distinct job_id)::int as jobs
        from cron_job_run where scheduled_for = ${slot}`;
      expect(slotRuns, `round ${round}`).toEqual({ runs: JOBS, jobs: JOBS });
    }
    const elapsed = performance.now() - started;

    const counts = await runFigures(sql);
    const [perJob] = await sql<{ wrong_runs: number; wrong_count: number; min_next: Date }[]>`
      select
        (select count(*)::int from (
          select j.id from cron_job j left join cron_job_run r on r.job_id = j.id
          group by j.id having count(r.id) <> ${ROUNDS}
            or count(distinct r.scheduled_for) <> ${ROUNDS}) x) as wrong_runs,
        (select count(*)::int from cron_job
          where (metadata->>'execution_count')::int <> ${ROUNDS}
            or (metadata->>'error_count')::int <> 0) as wrong_count,
        (select min(next_run) from cron_job) as min_next`;
    const expected = JOBS * ROUNDS;
    const lost = expected - counts.success;
    figures(
      `duplicate sweeps: ${ROUNDS} rounds x ${PROCESSES} processes x ${JOBS} jobs: ` +
        `runs ${counts.runs}/${expected}, runs lost ${lost}, duplicate runs ${counts.duplicates}, ` +
        `left due ${counts.due}, wrong execution_count ${perJob!.wrong_count}; ` +
        `processes with work per round ${(processesWithWork / ROUNDS).toFixed(1)}/${PROCESSES}, ` +
        `busiest process ${(busiestShare * 100).toFixed(0)} % of a round; ${seconds(elapsed)}`,
    );
    expect(ids).toHaveLength(JOBS);
    expect(counts).toMatchObject({
      runs: expected,
      success: expected,
      duplicates: 0,
      running: 0,
      lost: 0,
      skipped: 0,
      due: 0,
    });
    expect(perJob).toMatchObject({ wrong_runs: 0, wrong_count: 0 });
    expect(perJob!.min_next.getTime()).toBeGreaterThan(Date.now());
    // The point of the scenario: the sweeps really did overlap.
    expect(processesWithWork / ROUNDS).toBeGreaterThan(1);
  }, 150_000);
});
