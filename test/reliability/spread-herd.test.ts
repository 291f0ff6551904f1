import { beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../../lib/engine/sweep';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { insertJobs, testRegistry } from '../helpers/jobs';
import { figures } from './helpers';

// Issue #13 acceptance: 10,000 `daily` jobs with spread_seconds 600 start spread over the 10
// minutes after their midnight slot, none early. The clock is moved, never waited on: sweeps
// at every minute from the slot to 10 minutes after it. Each job's offset is derived from its id,
// and recomputed here from the id alone (the first 32 bits, scaled to [0, 600 s)), so the spread
// is deterministic per job.

const JOBS = 10_000;
const SPREAD_SECONDS = 600;
const MINUTE = 60_000;
const SLOT = Date.parse('2026-12-02T00:00:00Z');

// The tests read what one simulation left, so the database is not emptied between them.
const { sql } = await createTestDatabase();
const deps = { sql, registry: testRegistry, log: silentLog };

/** The offset of a job's runs, computed from its id as migration 35 documents it. */
function offsetFromId(id: string): number {
  const first32 = BigInt(`0x${id.replaceAll('-', '').slice(0, 8)}`);
  return Number((first32 * BigInt(SPREAD_SECONDS) * 1000n) / 4_294_967_296n);
}

interface Run {
  job_id: string;
  scheduled_for: Date;
  started_at: Date;
  status: string;
}

let runs: Run[] = [];
const executedPerSweep: number[] = [];

beforeAll(async () => {
  // One statement for the jobs, one for their spread (as a job write sets next_run: slot + offset).
  const ids = await insertJobs(sql, JOBS, { schedule: 'daily', next_run: new Date(SLOT) });
  await sql`
    update cron_job set spread_seconds = ${SPREAD_SECONDS},
      next_run = next_run + cron_spread_offset_ms(id, ${SPREAD_SECONDS}) * interval '1 millisecond'
    where id = any(${ids}::uuid[])`;
  for (let minute = 0; minute <= SPREAD_SECONDS / 60; minute += 1) {
    const now = new Date(SLOT + minute * MINUTE);
    const summary = await sweep(deps, { now: () => now, concurrency: 16 });
    executedPerSweep.push(summary.executed);
  }
  runs = await sql<Run[]>`select job_id, scheduled_for, started_at, status from cron_job_run`;
}, 600_000);

describe(`${JOBS} daily jobs with spread_seconds ${SPREAD_SECONDS}`, () => {
  it('start spread over 10 minutes, each at its first sweep after slot + its offset, none early', async () => {
    const jobs = await sql<{ id: string; next_run: Date }[]>`select id, next_run from cron_job`;
    const offsets = new Map(jobs.map((job) => [job.id, offsetFromId(job.id)]));
    // Per minute after the slot: runs started by the sweep at the end of that minute.
    const histogram = Array.from({ length: SPREAD_SECONDS / 60 }, () => 0);
    let early = 0;
    let late = 0;
    for (const run of runs) {
      const due = SLOT + offsets.get(run.job_id)!;
      const started = run.started_at.getTime();
      if (started < due) early += 1;
      // Sweeps come every minute: a run starts within a minute of slot + offset.
      if (started - due > MINUTE) late += 1;
      const minute = Math.max(0, Math.ceil((started - SLOT) / MINUTE) - 1);
      histogram[minute] = (histogram[minute] ?? 0) + 1;
    }
    const bars = histogram
      .map((count, minute) => {
        const label = `00:${String(minute).padStart(2, '0')}-00:${String(minute + 1).padStart(2, '0')}`;
        return `  ${label} ${String(count).padStart(5)} ${'#'.repeat(Math.round(count / 25))}`;
      })
      .join('\n');
    figures(
      `spread herd: ${JOBS} daily jobs, spread_seconds ${SPREAD_SECONDS}, sweeps every minute ` +
        `(runs per sweep: ${executedPerSweep.join(', ')}); starts per minute after the slot:\n${bars}`,
    );

    expect(runs).toHaveLength(JOBS);
    expect(new Set(runs.map((run) => run.job_id)).size).toBe(JOBS);
    expect(runs.every((run) => run.status === 'success')).toBe(true);
    expect(runs.every((run) => run.scheduled_for.getTime() === SLOT)).toBe(true);
    expect(early).toBe(0);
    expect(late).toBe(0);
    // Nothing before the slot's first offset could start: the sweep at the slot itself runs at
    // most the jobs whose offset is 0.
    expect(executedPerSweep[0]).toBeLessThanOrEqual(
      [...offsets.values()].filter((offset) => offset === 0).length,
    );
    // Evenly spread: each of the 10 minutes holds about a tenth (ids are random; 1,000 ± 200 is
    // over six standard deviations either way).
    expect(histogram).toHaveLength(10);
    for (const count of histogram) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1200);
    }
    expect(histogram.reduce((sum, count) => sum + count, 0)).toBe(JOBS);
    // Each job's next run is the next day's slot plus the same offset: fixed per job.
    for (const job of jobs) {
      expect(job.next_run.getTime()).toBe(SLOT + 86_400_000 + offsets.get(job.id)!);
    }
  });

  it('the offset is the database’s own function of the id', async () => {
    const rows = await sql<{ id: string; offset: number }[]>`
      select id, cron_spread_offset_ms(id, ${SPREAD_SECONDS}) as offset from cron_job`;
    expect(rows).toHaveLength(JOBS);
    for (const row of rows) expect(row.offset).toBe(offsetFromId(row.id));
  });
});
