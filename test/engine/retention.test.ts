import { beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../../lib/db';
import {
  DEFAULT_RUN_RETENTION_DAYS,
  KEPT_RUNS_PER_JOB,
  pruneAfterSweep,
  pruneRunHistory,
} from '../../lib/engine/retention';
import { parseLocalConfig } from '../../lib/local/config';
import { createTestDatabase } from '../helpers/database';
import { insertJobs } from '../helpers/jobs';
import { capturingLog } from '../reliability/helpers';

const { sql, url } = await createTestDatabase();
const now = new Date('2026-11-29T12:00:00Z');
const DAY = 86_400_000;

// Runs outlive their job (admins read a deleted job's history until retention), so each test
// starts with neither.
beforeEach(async () => {
  await sql`delete from cron_job_run`;
  await sql`delete from cron_job`;
});

/** One finished run per entry of `daysAgo`, started that many days before `now`. */
async function insertRuns(jobId: string, daysAgo: number[], status = 'success') {
  const rows = await sql<{ id: string }[]>`
    insert into cron_job_run (job_id, scheduled_for, trigger, status, started_at, finished_at, duration_ms)
    select ${jobId}, null, 'manual', ${status}, t, case when ${status} = 'running' then null else t end,
      case when ${status} = 'running' then null else 5 end
    from unnest(${sql.array(daysAgo.map((days) => new Date(now.getTime() - days * DAY)))}::timestamptz[]) as t
    returning id`;
  return rows.map((row) => row.id);
}

async function runDaysAgo(jobId: string): Promise<number[]> {
  const rows = await sql<{ started_at: Date }[]>`
    select started_at from cron_job_run where job_id = ${jobId} order by started_at desc`;
  return rows.map((row) => Math.round((now.getTime() - row.started_at.getTime()) / DAY));
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('run retention', () => {
  it('defaults to 30 days and keeps each job its 10 newest runs', () => {
    expect(DEFAULT_RUN_RETENTION_DAYS).toBe(30);
    expect(KEPT_RUNS_PER_JOB).toBe(10);
  });

  it.each([
    ['one batch', 10_000],
    ['many small batches', 7],
  ])(
    'removes runs older than the retention, keeping every job its newest runs (%s)',
    async (_, batchSize) => {
      const [busy, monthly, rare, stuck] = await insertJobs(sql, 4, { name: 'retention' });
      await insertRuns(busy!, range(1, 60)); // 30 within the retention (30 days ago is not older)
      await insertRuns(monthly!, range(31, 45)); // 15, all old
      await insertRuns(rare!, [100, 200, 300]);
      await insertRuns(stuck!, range(31, 50));
      // A run still in progress is never removed, however old its start.
      await insertRuns(stuck!, [70], 'running');
      const metadataBefore = await sql`select id, metadata, next_run from cron_job order by id`;

      const summary = await pruneRunHistory(sql, { retentionDays: 30, now, batchSize });

      // Newest first.
      expect(await runDaysAgo(busy!)).toEqual(range(1, 30));
      expect(await runDaysAgo(monthly!)).toEqual(range(31, 40));
      expect(await runDaysAgo(rare!)).toEqual([100, 200, 300]);
      expect(await runDaysAgo(stuck!)).toEqual([...range(31, 40), 70]);
      expect(summary.deleted).toBe(30 + 5 + 10);
      expect(summary.batches).toBeGreaterThanOrEqual(batchSize < 100 ? 10 : 1);
      expect(await sql`select id, metadata, next_run from cron_job order by id`).toEqual(
        metadataBefore,
      );
    },
  );

  it('removes the log lines of the runs it removes, and only those', async () => {
    const [job] = await insertJobs(sql, 1, { name: 'logs' });
    const [old] = await insertRuns(job!, [45]);
    await insertRuns(job!, range(1, 10));
    const [recent] = await insertRuns(job!, [0]);
    await sql`
      insert into cron_job_run_log (run_id, seq, at, level, message)
      values (${old!}, 1, now(), 'info', 'old'), (${recent!}, 1, now(), 'info', 'recent')`;

    await pruneRunHistory(sql, { retentionDays: 30, now });

    expect(await sql`select message from cron_job_run_log`).toEqual([{ message: 'recent' }]);
  });

  it('honours RUN_RETENTION_DAYS and a deadline already passed', async () => {
    const [job] = await insertJobs(sql, 1, { name: 'days' });
    await insertRuns(job!, range(1, 40));
    expect(
      await pruneRunHistory(sql, { retentionDays: 30, now, deadline: new Date(Date.now() - 1) }),
    ).toEqual({ deleted: 0, batches: 0, max_batch_ms: 0 });
    expect((await pruneRunHistory(sql, { retentionDays: 35, now })).deleted).toBe(5);
    expect(await runDaysAgo(job!)).toEqual(range(1, 35));
    // Within 7 days: 7 runs; the 10 newest stay all the same.
    expect((await pruneRunHistory(sql, { retentionDays: 7, now })).deleted).toBe(25);
    expect(await runDaysAgo(job!)).toEqual(range(1, 10));
  });
});

describe('retention after each sweep', () => {
  it('logs one line with what it removed', async () => {
    const [job] = await insertJobs(sql, 1, { name: 'after sweep' });
    await insertRuns(
      job!,
      range(1, 12).map((days) => days * 10),
    );
    const log = capturingLog();

    const summary = await pruneAfterSweep({ sql, log }, { retentionDays: 30 });

    expect(summary).toMatchObject({ deleted: 2, batches: 1 });
    expect(log.entries).toEqual([
      {
        level: 'info',
        message: 'run history pruned',
        extra: expect.objectContaining({ deleted: 2, retention_days: 30 }),
      },
    ]);
  });

  it('logs a failure instead of failing the sweep that succeeded', async () => {
    const closed = connect(url, { max: 1 });
    await closed.end();
    const log = capturingLog();

    expect(await pruneAfterSweep({ sql: closed, log }, { retentionDays: 30 })).toBeUndefined();

    expect(log.entries).toEqual([
      {
        level: 'error',
        message: 'run retention failed',
        extra: { error: expect.stringMatching(/CONNECTION_ENDED|ended/) },
      },
    ]);
  });

  it('reads RUN_RETENTION_DAYS locally: whole days from 1, 30 when unset', () => {
    expect(parseLocalConfig({}).runRetentionDays).toBe(30);
    expect(parseLocalConfig({ RUN_RETENTION_DAYS: '7' }).runRetentionDays).toBe(7);
    for (const bad of ['0', '1.5', 'thirty', '-1']) {
      expect(() => parseLocalConfig({ RUN_RETENTION_DAYS: bad })).toThrow(/RUN_RETENTION_DAYS/);
    }
  });
});

describe('runs of a deleted job', () => {
  it('age out entirely: no newest runs are kept for a job that no longer exists', async () => {
    // Deleting a job may keep its runs readable until retention (contract section 4); here the
    // runs outlive their job as they do when nothing cascades.
    const [constraint] = await sql<{ conname: string }[]>`
      select conname from pg_constraint
      where conrelid = 'cron_job_run'::regclass and contype = 'f' and confrelid = 'cron_job'::regclass`;
    if (constraint) await sql`alter table cron_job_run drop constraint ${sql(constraint.conname)}`;
    const [gone, kept] = await insertJobs(sql, 2, { name: 'deleted' });
    await insertRuns(gone!, [1, 40, 50]);
    await insertRuns(kept!, [40, 50]);
    await sql`delete from cron_job where id = ${gone!}`;

    await pruneRunHistory(sql, { retentionDays: 30, now });

    expect(await runDaysAgo(gone!)).toEqual([1]);
    expect(await runDaysAgo(kept!)).toEqual([40, 50]);
  });
});
